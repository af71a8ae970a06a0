"""`hourglass serve`'s OpenAPI document is the service's real contract, checked by schemathesis in-process (ASGI).

schemathesis generates requests from `/openapi.json` — valid ones, which must be answered 2xx with a body of the
declared schema, and invalid ones, which must be refused with a 4xx — and runs all its default checks on every
answer, for a model trained on arrays (digits) and one trained on a table. Derandomized, with a bounded number of
examples per operation, so the suite cannot go red by chance.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from hourglass.service import ServiceConfig, create_app

# One setting differs from schemathesis's defaults, and no check is excluded: a request with more rows than the
# document's maxItems (max_rows) is answered 413 Content Too Large (RFC 9110 §15.5.14), the status a body over a
# size limit gets, where negative_data_rejection expects one of its default list, which lacks 413.
CONFIG = """
[generation]
deterministic = true
max-examples = 25

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
"""


@pytest.fixture(scope="module", params=["mlp", "table"])
def served(request, trained):
    app = create_app(trained[request.param], ServiceConfig(max_rows=4, max_body_bytes=100_000))
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=SchemathesisConfig.from_str(CONFIG))


schema = schemathesis.pytest.from_fixture("served")


@pytest.fixture(autouse=True)
def node_id_for_schemathesis(request):
    """schemathesis 4.32 names each operation's subtest through the node's private ``_nodeid``, which pytest 9.2
    no longer keeps: give it one."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@schema.parametrize()
@settings(derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_answer_keeps_the_published_contract(case):
    case.call_and_validate()
