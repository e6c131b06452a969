"""The list of installed domains: their models, policies, routers and handlers.

app.py, migrations and tests read this one list instead of naming domains themselves.
"""

from __future__ import annotations

from zhiyi.domains.identity import api as identity_api
from zhiyi.domains.identity import models as identity_models  # noqa: F401  (tables)
from zhiyi.domains.identity import web as identity_web
from zhiyi.domains.org import api as org_api
from zhiyi.domains.org import models as org_models  # noqa: F401
from zhiyi.domains.patients import api as patients_api
from zhiyi.domains.patients import models as patients_models  # noqa: F401
from zhiyi.domains.patients import policy as patients_policy
from zhiyi.domains.patients import web as patients_web
from zhiyi.domains.scheduling import api as scheduling_api
from zhiyi.domains.scheduling import models as scheduling_models  # noqa: F401

API_ROUTERS = [identity_api.router, org_api.router, patients_api.router, scheduling_api.router]
WEB_ROUTERS = [identity_web.router, patients_web.router]
POLICIES = [patients_policy.install]


def install_policies() -> None:
    for install in POLICIES:
        install()
