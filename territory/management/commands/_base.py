"""Shared shape of the territory import commands: call one service, end with a JSON line."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from territory.formats.common import FormatError


class ImportCommand(BaseCommand):
    def run_service(self, service: Callable[[], dict[str, Any]]) -> None:
        try:
            summary = service()
        except FormatError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str))
