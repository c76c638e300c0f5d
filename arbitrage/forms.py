"""Forms parse input only: every rule (limits, steps, ownership, live venue maxima) lives in the services, whose
ValidationError dicts are mapped back onto these fields by ``apply_service_errors``."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from arbitrage.models import (
    MAX_CLOSE_DELAY_SECONDS,
    MAX_LEAD_SECONDS,
    AccountEnvironment,
    Direction,
    Exchange,
    ExchangeAccount,
    ExecutionStatus,
    Subscription,
)
from arbitrage.selectors import accounts_of_user, subscription_choices_of_user
from arbitrage.services.subscriptions import MAX_EDGE_BPS, MAX_QUANTITY, NUMBER_NOTATION
from arbitrage.services.timing import venue_floors

# Generous outer bounds: they only stop absurd payloads; the services state the real limits.
MAX_TEXT = 200
MIN_LEVERAGE, MAX_LEVERAGE = 1, 200  # the service's and the database's range, named in the form's message


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the named fields (unknown names and plain messages go to the top)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _secret_input() -> forms.PasswordInput:
    # Write-only: a re-rendered form (after an error) never echoes the key or the secret back into the page.
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})


class AccountCreateForm(forms.Form):
    exchange = forms.ChoiceField(choices=Exchange.choices)
    label = forms.CharField(max_length=MAX_TEXT)
    environment = forms.ChoiceField(choices=AccountEnvironment.choices, initial=AccountEnvironment.MAINNET)
    base_url = forms.CharField(
        max_length=MAX_TEXT,
        required=False,
        help_text="Optional: another of the venue's own API hosts (https:// and the host only), or a proxy the "
        "operator allows. Leave it empty for the built-in simulator.",
    )
    api_key = forms.CharField(max_length=MAX_TEXT, widget=_secret_input(), label="API key", strip=False)
    api_secret = forms.CharField(max_length=MAX_TEXT, widget=_secret_input(), label="API secret", strip=False)


class AccountUpdateForm(forms.Form):
    label = forms.CharField(max_length=MAX_TEXT)
    environment = forms.ChoiceField(choices=AccountEnvironment.choices)
    base_url = forms.CharField(max_length=MAX_TEXT, required=False)
    api_key = forms.CharField(
        max_length=MAX_TEXT,
        widget=_secret_input(),
        label="New API key",
        required=False,
        strip=False,
        help_text="Leave blank to keep the stored key.",
    )
    api_secret = forms.CharField(
        max_length=MAX_TEXT,
        widget=_secret_input(),
        label="New API secret",
        required=False,
        strip=False,
        help_text="Leave blank to keep the stored secret.",
    )

    @classmethod
    def for_account(cls, account: ExchangeAccount, data=None) -> AccountUpdateForm:
        initial = {"label": account.label, "environment": account.environment, "base_url": account.base_url}
        return cls(data=data, initial=initial)


class AccountChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: ExchangeAccount) -> str:
        return f"{obj.label} ({obj.get_exchange_display()}, {obj.api_key_hint})"


RECURRING_CHOICES = [("recurring", "Every funding instant"), ("once", "Once (the next instant only)")]


class SubscriptionForm(forms.Form):
    """Numbers arrive as text and go to ``subscription_clean`` unchanged: it names the field and the limit."""

    symbol = forms.CharField(max_length=MAX_TEXT, help_text="A USDT perpetual listed on both venues, like BTCUSDT.")
    primary_account = AccountChoice(queryset=ExchangeAccount.objects.none(), help_text="Funding is received here.")
    hedge_account = AccountChoice(queryset=ExchangeAccount.objects.none(), help_text="The opposite side, elsewhere.")
    quantity = forms.CharField(
        max_length=64, widget=forms.TextInput(attrs={"inputmode": "decimal"}), help_text="Base coin per leg."
    )
    leverage = forms.CharField(
        max_length=32,
        initial="3",
        widget=forms.NumberInput(attrs={"min": MIN_LEVERAGE, "max": MAX_LEVERAGE, "step": 1}),
        help_text="Checked against both venues' maximum for the symbol.",
    )
    direction = forms.ChoiceField(choices=Direction.choices, initial=Direction.AUTO)
    min_edge_bps = forms.CharField(
        max_length=32,
        initial="0",
        label="Minimum edge (bps)",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="Skip an instant whose expected edge after fees is below this.",
    )
    lead_seconds = forms.CharField(
        max_length=32,
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_LEAD_SECONDS, "step": 1}),
    )
    close_delay_seconds = forms.CharField(
        max_length=32,
        label="Close after (seconds)",
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_CLOSE_DELAY_SECONDS, "step": 1}),
    )
    recurring = forms.TypedChoiceField(
        choices=RECURRING_CHOICES,
        initial="recurring",
        coerce=lambda value: value == "recurring",
        widget=forms.RadioSelect,
        label="Repeat",
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only the owner's accounts can be chosen: another user's id is "not one of the available choices".
        for name in ("primary_account", "hedge_account"):
            self.fields[name].queryset = accounts_of_user(user=user)
        # Every pair has one leg on each venue today, so the pair's defaults are the stricter venue's.
        floors = venue_floors()
        lead, hold = max(f.lead for f in floors), max(f.hold for f in floors)
        self.fields["lead_seconds"].initial = str(lead)
        self.fields["lead_seconds"].help_text = (
            f"Open this many seconds before the funding instant (at most {MAX_LEAD_SECONDS}). A pair takes the "
            "stricter venue's rule: " + "; ".join(f"{f.lead_rule}, so at least {f.lead} s" for f in floors) + "."
        )
        self.fields["close_delay_seconds"].initial = str(hold)
        self.fields["close_delay_seconds"].help_text = (
            f"Close this many seconds after it at the earliest (at most {MAX_CLOSE_DELAY_SECONDS}): "
            + "; ".join(f"{f.venue}: at least {f.hold} s" for f in floors)
            + "."
        )

    def _number(self, name: str, limits: str) -> str:
        # The service's notation (plain ASCII decimals), checked here too so the message names the field's limits.
        value = self.cleaned_data[name]
        if not NUMBER_NOTATION.fullmatch(value.strip()):
            raise ValidationError(f"Enter a {limits}.")
        return value

    def clean_quantity(self) -> str:
        return self._number("quantity", f"number above 0 and at most {MAX_QUANTITY:f}")

    def clean_min_edge_bps(self) -> str:
        return self._number("min_edge_bps", f"number from {-MAX_EDGE_BPS} to {MAX_EDGE_BPS}")

    def clean_leverage(self) -> str:
        return self._number("leverage", f"whole number from {MIN_LEVERAGE} to {MAX_LEVERAGE}")

    def clean_lead_seconds(self) -> str:
        return self._number("lead_seconds", f"whole number from 1 to {MAX_LEAD_SECONDS}")

    def clean_close_delay_seconds(self) -> str:
        return self._number("close_delay_seconds", f"whole number from 1 to {MAX_CLOSE_DELAY_SECONDS}")

    @classmethod
    def initial_for(cls, subscription: Subscription) -> dict:
        return {
            "symbol": subscription.symbol,
            "primary_account": subscription.primary_account_id,
            "hedge_account": subscription.hedge_account_id,
            "quantity": f"{subscription.quantity.normalize():f}",
            "leverage": subscription.leverage,
            "direction": subscription.direction,
            "min_edge_bps": f"{subscription.min_edge_bps.normalize():f}",
            "lead_seconds": subscription.lead_seconds,
            "close_delay_seconds": subscription.close_delay_seconds,
            "recurring": "recurring" if subscription.recurring else "once",
        }


class ExecutionFilterForm(forms.Form):
    """GET filters: an invalid value is reported and that filter ignored; the list still renders."""

    status = forms.ChoiceField(choices=[("", "Any status"), *ExecutionStatus.choices], required=False)
    subscription = forms.ModelChoiceField(
        queryset=Subscription.objects.none(), required=False, empty_label="Any subscription"
    )
    symbol = forms.CharField(max_length=30, required=False)
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subscription"].queryset = subscription_choices_of_user(user=user)
        self.fields["subscription"].label_from_instance = lambda s: f"#{s.pk} {s.symbol}"

    def valid_filters(self) -> dict:
        """The cleaned values of the fields that validated (``is_valid`` must have been called)."""
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}
