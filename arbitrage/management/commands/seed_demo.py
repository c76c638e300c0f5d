from django.core.management.base import BaseCommand

from arbitrage.services.demo import demo_seed


class Command(BaseCommand):
    help = "Create the demo user (idempotent) and print how to log in."

    def handle(self, *args, **options):
        result = demo_seed()
        state = "created" if result.created else "exists"
        self.stdout.write(f"demo user ({state}): username {result.username}  password {result.password_hint}")
