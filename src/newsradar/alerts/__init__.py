"""Alerts: the outbox (planned in the batch transaction) and delivery of digests.

rows = plan_alerts(config, matched, now)       # pure; stored with the batch
queue_alerts(con, rows)                        # newsradar.store.alerts, same transaction
report = deliver_pending(config)               # after all batches: digests out, rows marked
"""

from newsradar.alerts.deliver import DeliveryReport, deliver_pending
from newsradar.alerts.outbox import AlertRow, MatchedArticle, plan_alerts

__all__ = ["AlertRow", "DeliveryReport", "MatchedArticle", "deliver_pending", "plan_alerts"]
