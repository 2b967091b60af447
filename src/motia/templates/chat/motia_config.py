"""Stream clients authenticate with the same access tokens as the API steps (from
`POST /session` or a room's join): the connection's auth context is the token's claims,
which each stream's `canAccess` reads."""

from motia.auth import jwt_stream_auth

authenticate = jwt_stream_auth
