from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from arbitrage.services.demo import DemoModeOff, demo_seed
from exchanges.errors import ExchangeError
from exchanges.simulator.control import ControlError


class Command(BaseCommand):
    help = "In demo mode (DEMO_SIMULATOR): create the demo user, its simulator accounts and subscription (idempotent)."

    def handle(self, *args, **options):
        try:
            result = demo_seed()
        except DemoModeOff as exc:
            raise CommandError(str(exc)) from None
        except (ExchangeError, ControlError, OSError) as exc:
            raise CommandError(f"the demo simulator is not reachable or refused: {exc}") from None
        except ValidationError as exc:
            raise CommandError(f"the demo subscription is invalid: {'; '.join(exc.messages)}") from None
        state = "created" if result.created else "exists"
        self.stdout.write(f"demo user ({state}): username {result.username}  password {result.password_hint}")
        self.stdout.write(f"demo subscription #{result.subscription_id}: ETHUSDT, Bybit primary, BingX hedge")
