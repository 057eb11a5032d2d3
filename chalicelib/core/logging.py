"""Powertools JSON logging; every line of a request carries its `request_id`."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="vbwd-api")
