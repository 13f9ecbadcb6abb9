"""The Django the Open edX test platform needs, set up once, here and nowhere else.

lti-consumer-xblock is a Django app: its LTI 1.3 consumer keeps the launch data between the
login and the launch in Django's cache (``TieredCache``), names the platform from
``settings.PLATFORM_NAME``, and its serializers (the checks Open edX's AGS and deep-linking
endpoints run) need the app registry. No database is configured or touched: the test
platform keeps its line items and scores as unsaved model instances.

Only the Open edX tests import this; Jalon never imports Django.
"""

from __future__ import annotations

import warnings

import django
from django.conf import settings

PLATFORM_NAME = "Open edX de l’école"

if not settings.configured:
    settings.configure(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "lti_consumer"],
        DATABASES={},
        USE_TZ=True,
        PLATFORM_NAME=PLATFORM_NAME,
        # Leave the test run's logging alone.
        LOGGING_CONFIG=None,
    )
    # The package's dependencies import modules Python 3.11 deprecates (webob: ``cgi``):
    # their warnings, not ours, so they do not fail the run (filterwarnings = error).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        django.setup()
        import lti_consumer.api
        import lti_consumer.lti_1p3.extensions.rest_framework.constants
        import lti_consumer.lti_1p3.extensions.rest_framework.parsers
        import lti_consumer.lti_1p3.extensions.rest_framework.renderers  # noqa: F401
