"""Powertools JSON logging; every line of a request carries its `request_id`."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger

logger = Logger(service="vbwd-api")

# Library chatter (PynamoDB's settings lookup, botocore's credential discovery) is not ours to print.
for _name in ("pynamodb", "botocore", "urllib3"):
    logging.getLogger(_name).setLevel(logging.WARNING)
