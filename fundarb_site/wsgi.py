import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundarb_site.settings")
application = get_wsgi_application()

from arbitrage.services.demo import demo_login_guard_at_start  # noqa: E402 (needs the apps loaded above)

demo_login_guard_at_start("web server")
