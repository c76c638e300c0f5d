import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundarb_site.settings")
application = get_asgi_application()

from arbitrage.services.demo import demo_login_guard_at_start  # noqa: E402 (needs the apps loaded above)

demo_login_guard_at_start("web server")
