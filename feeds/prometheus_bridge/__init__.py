"""The Prometheus bridge (`manage.py feed_from_prometheus`): a feeder that reads a Prometheus
scraping node_exporter and posts one batch per 5-minute tick to Argus, like any other feeder.

  prometheus.py  the Prometheus HTTP API (instant queries), one vector per query
  queries.py     the PromQL of each field, and the records built from their answers
  posting.py     POST /feed/data with retries and backoff, one post per tick
  loop.py        the ticks: which slot is due, what was posted, what was skipped

Plain Python and requests: it runs wherever a feeder runs and imports no Django."""
