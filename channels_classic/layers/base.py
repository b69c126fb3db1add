"""What the project's layers share on top of channels 4's base class."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from channels.layers import BaseChannelLayer

from ..names import check_channel_name, check_group_name


class ClassicBaseLayer(BaseChannelLayer):
    """channels 4's layer base, with the project's name checks: their errors show the bad
    name and what a good one looks like, where channels 4's only say that it is invalid."""

    #: True for a layer no other process can reach (see ``capabilities.ProcessLocal``).
    local_only = False

    def require_valid_channel_name(self, name: Any, receive: bool = False) -> bool:
        check_channel_name(name)
        return True

    def require_valid_group_name(self, name: Any) -> bool:
        check_group_name(name)
        return True

    async def release(self, channels: Sequence[str]) -> int:
        """Hands back what this process's receiving took for ``channels`` and no receive got;
        returns how many messages went back. A layer whose called-off receives give back
        everything at once (the in-memory layer) has nothing left to hand back."""
        return 0
