"""/api/v1/pathway/versions: the applied pathway versions, for every signed-in user."""

from __future__ import annotations

from config import DEFAULT_PATHWAY
from pathway.ports import Deps
from pathway.services import pathway_change
from tests.web.conftest import ROLES, TestClient, bearer


def test_signed_in_users_list_the_applied_versions(
    client: TestClient, tokens: dict[str, str], deps: Deps
) -> None:
    assert client.get("/api/v1/pathway/versions").status_code == 401
    assert client.get("/api/v1/pathway/versions", headers=bearer(tokens["viewer"])).json() == []
    pathway_change.adopt(deps, DEFAULT_PATHWAY.read_text(encoding="utf-8"), "pathway init")
    for role in ROLES:
        response = client.get("/api/v1/pathway/versions", headers=bearer(tokens[role]))
        assert response.status_code == 200, response.text
        [version] = response.json()
        assert version["number"] == 1 and version["approved_by"] == "pathway init"
        assert version["hash"] == deps.pathway.definition.content_hash and version["rederived"]
        assert "text" not in version
