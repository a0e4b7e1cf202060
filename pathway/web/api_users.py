"""/api/v1/users: accounts, for admins (the same as `pathway users` on the server)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from pathway.ports import User
from pathway.services import accounts
from pathway.web import present, schemas
from pathway.web.auth import deps_of, may

router = APIRouter(prefix="/users", tags=["users"])
Admin = Annotated[User, may("manage_users")]
UserName = Annotated[str, Path(max_length=64, pattern=accounts.USER_NAME.pattern)]


@router.get("", response_model=list[schemas.UserOut])
def list_users(request: Request, _: Admin) -> Any:
    return [present.user(u) for u in accounts.list_users(deps_of(request))]


@router.post("", status_code=201, response_model=schemas.IssuedOut)
def add_user(request: Request, response: Response, body: schemas.UserIn, admin: Admin) -> Any:
    issued = accounts.add_user(
        deps_of(request), body.name, body.role, by=admin.name, expires_in_days=body.expires_in_days
    )
    response.headers["Location"] = "/api/v1/users"
    return schemas.IssuedOut(user=present.user(issued.user), token=issued.token)


@router.post("/{name}/revoke", response_model=schemas.UserOut)
def revoke_user(request: Request, name: UserName, admin: Admin) -> Any:
    return present.user(accounts.revoke_user(deps_of(request), name, by=admin.name))


@router.post("/{name}/reset-token", response_model=schemas.IssuedOut)
def reset_token(request: Request, name: UserName, admin: Admin) -> Any:
    issued = accounts.reset_token(deps_of(request), name, by=admin.name)
    return schemas.IssuedOut(user=present.user(issued.user), token=issued.token)


@router.post("/{name}/role", response_model=schemas.UserOut)
def set_role(request: Request, name: UserName, body: schemas.RoleIn, admin: Admin) -> Any:
    return present.user(accounts.set_role(deps_of(request), name, body.role, by=admin.name))
