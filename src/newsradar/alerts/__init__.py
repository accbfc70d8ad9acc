"""Alerts: the outbox (planned in the batch transaction) and delivery of digests.

In a pass::

    rows = plan_alerts(config, matched, now)   # pure; stored with the batch
    queue_alerts(con, rows)                    # newsradar.store.alerts, same transaction
    queue_spikes(config, now)                  # spike alerts (newsradar.spikes), same outbox
    report = deliver_pending(config)           # after all batches: digests out, rows marked
"""

from newsradar.alerts.deliver import DeliveryReport, deliver_pending, queue_spikes
from newsradar.alerts.outbox import AlertRow, MatchedArticle, plan_alerts

__all__ = [
    "AlertRow",
    "DeliveryReport",
    "MatchedArticle",
    "deliver_pending",
    "plan_alerts",
    "queue_spikes",
]
