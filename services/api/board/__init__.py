"""The web board: server-rendered pages on the API replicas, live through Server-Sent Events."""

from __future__ import annotations

from fastapi import APIRouter

from services.api.board import events, login, pages
from services.api.board.events import board_hub
from services.api.board.hub import TimelineHub

__all__ = ["TimelineHub", "board_hub", "board_routers", "links_router"]

board_routers: tuple[APIRouter, ...] = (login.router, events.router, pages.router)
links_router = login.links_router
