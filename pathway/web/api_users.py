"""/api/v1/users: accounts, for admins (the same as `pathway users` on the server)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from pathway.ports import User
from pathway.services import accounts
from pathway.web import paging, present, schemas
from pathway.web.auth import deps_of, may
from pathway.web.paging import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(prefix="/users", tags=["users"])
Admin = Annotated[User, may("manage_users")]
UserName = Annotated[str, Path(max_length=64, pattern=accounts.USER_NAME.pattern)]


@router.get("", response_model=list[schemas.UserOut], operation_id="listUsers")
def list_users(
    request: Request, response: Response, _: Admin, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Any:
    """Accounts in name order, a page at a time."""
    last = paging.decode("users", cursor, str)
    rows = paging.after(accounts.list_users(deps_of(request)), last, lambda u: u.name)[: limit + 1]
    return [present.user(u) for u in paging.page(request, response, "users", rows, limit, lambda u: u.name)]


@router.post("", status_code=201, response_model=schemas.IssuedOut, operation_id="addUser")
def add_user(request: Request, response: Response, body: schemas.UserIn, admin: Admin) -> Any:
    issued = accounts.add_user(
        deps_of(request), body.name, body.role, by=admin.name, expires_in_days=body.expires_in_days
    )
    response.headers["Location"] = "/api/v1/users"
    return schemas.IssuedOut(user=present.user(issued.user), token=issued.token)


@router.post("/{name}/revoke", response_model=schemas.UserOut, operation_id="revokeUser")
def revoke_user(request: Request, name: UserName, admin: Admin) -> Any:
    return present.user(accounts.revoke_user(deps_of(request), name, by=admin.name))


@router.post("/{name}/reset-token", response_model=schemas.IssuedOut, operation_id="resetUserToken")
def reset_token(request: Request, name: UserName, admin: Admin) -> Any:
    issued = accounts.reset_token(deps_of(request), name, by=admin.name)
    return schemas.IssuedOut(user=present.user(issued.user), token=issued.token)


@router.post("/{name}/role", response_model=schemas.UserOut, operation_id="setUserRole")
def set_role(request: Request, name: UserName, body: schemas.RoleIn, admin: Admin) -> Any:
    return present.user(accounts.set_role(deps_of(request), name, body.role, by=admin.name))
