"""Alerts: the outbox (planned in the batch transaction) and delivery of digests."""

from newsradar.alerts.deliver import DeliveryReport, deliver_pending
from newsradar.alerts.outbox import AlertRow, MatchedArticle, plan_alerts

__all__ = ["AlertRow", "DeliveryReport", "MatchedArticle", "deliver_pending", "plan_alerts"]
