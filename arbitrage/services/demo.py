from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "fundarb-demo"


@dataclass(frozen=True)
class DemoSeed:
    username: str
    password_hint: str
    created: bool


@transaction.atomic
def demo_seed() -> DemoSeed:
    """Create the demo user once; a password the user has since changed is left alone."""
    user, created = get_user_model().objects.get_or_create(username=DEMO_USERNAME, defaults={"email": "demo@localhost"})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        return DemoSeed(username=DEMO_USERNAME, password_hint=DEMO_PASSWORD, created=True)
    return DemoSeed(username=DEMO_USERNAME, password_hint=f"{DEMO_PASSWORD} (unless you changed it)", created=False)
