"""Monthly cost of serving a model: Lambda behind each front door against SageMaker.

Pure functions over the dated price table in :mod:`cdk_sklearn.cost.prices`; no I/O. One module
per concern, imported in this order (each only from the ones above it):

- :mod:`~cdk_sklearn.cost.prices`: the dated, sourced price table;
- :mod:`~cdk_sklearn.cost.workload`: what is served and how (:class:`~cdk_sklearn.cost.workload.Workload`),
  request volumes as people write them;
- :mod:`~cdk_sklearn.cost.bill`: line items and the option they make up;
- one module per bill: :mod:`~cdk_sklearn.cost.cloudwatch`, :mod:`~cdk_sklearn.cost.lambda_bill`
  (Lambda behind a front door), :mod:`~cdk_sklearn.cost.sagemaker` (instances, Serverless),
  :mod:`~cdk_sklearn.cost.lmi` (Lambda Managed Instances), :mod:`~cdk_sklearn.cost.batch` (one batch
  job: Step Functions + Lambda against Batch Transform);
- :mod:`~cdk_sklearn.cost.compare`: every option at one volume, and the break-even volumes;
- :mod:`~cdk_sklearn.cost.summary`: the answer first (this endpoint at a few volumes, the cheapest
  alternative with its caveats, the break-evens that matter), and each option's caveat;
- :mod:`~cdk_sklearn.cost.report`: the full tables at one volume (``--details``) and the JSON;
- :mod:`~cdk_sklearn.cost.plot`: the chart (matplotlib, only when asked for).

Every option's monthly cost is a sum of :class:`~cdk_sklearn.cost.bill.LineItem` s, each of the form
``fixed + usd_per_request * max(0, N - free_requests)`` where ``N`` is requests per month. That
form is exact for the prices modelled (no volume tiers are reached below 300M requests a month)
and makes break-even volumes solvable in closed form: between free-tier kinks every option is a
straight line in ``N``.

Modelling assumptions (also printed by ``cdk-sklearn cost`` and in docs/readme/cost.md):

- A month is 730 hours; always-on resources (SageMaker instances, provisioned concurrency held,
  the SnapStart cache of the live version) are billed for all of it unless told otherwise.
- ``cold_start_rate`` is the fraction of on-demand requests that start a new execution
  environment. Each cold start bills ``init_duration_ms`` at the on-demand duration price (INIT
  billing for ZIP functions on managed runtimes, in force since 2025-08-01).
- With SnapStart a cold start is a restore instead: billed per GB of memory restored, plus any
  billed restore duration (after-restore hooks; none by default) at the duration price. The
  one-off INIT at version publish is not counted (one INIT per version a month, < $0.001).
- With provisioned concurrency, requests are spread evenly over the month, so the share served
  by provisioned environments is ``provisioned_hours / 730``; those requests bill the
  provisioned duration price and never cold start. Spill-over beyond the provisioned count is
  not modelled; the periodic re-INIT of provisioned environments is not counted.
- SageMaker Serverless bills inference duration x memory, memory rounded up to the next of its
  sizes (1024..6144 MB); it has no per-request charge; its container start time is not billed.
- SageMaker real-time endpoints bill instance-hours only; one instance type handles all the
  traffic (capacity is not checked).
- The Lambda options count what the construct creates by default for CloudWatch: with
  ``monitoring`` its alarms (billed per alarm metric: the error-rate alarm reads 3 metrics, the
  latency and throttle alarms 1 each, the provisioned-spillover alarm 1 more with provisioned
  concurrency) and its dashboard; always, the runtime's 5 custom (EMF) metrics and the Logs
  ingestion of the handler's one request line
  (:data:`~cdk_sklearn.cost.workload.REQUEST_LOG_BYTES`) plus Lambda's START/END/REPORT lines
  (:data:`~cdk_sklearn.cost.workload.LAMBDA_PLATFORM_LOG_BYTES`).
- Not modelled, for any option: data transfer out, SageMaker data processing ($/GB in and out),
  API Gateway access-log lines, log storage, CloudWatch for the SageMaker options, S3 storage of
  the model, volume tiers (Lambda duration beyond 6 billion GB-s a month, HTTP API beyond 300M
  requests, REST API beyond 333M requests).
- Free tiers are excluded unless ``include_free_tier``: Lambda's 1M requests and 400,000 GB-s
  a month (always free; not for functions with provisioned concurrency), CloudWatch's 10 alarm
  metrics, 10 custom metrics, 3 dashboards and 5 GB of logs (always free), SageMaker
  Serverless's 150,000 s a month (first 2 months). API Gateway's 1M requests a month for 12
  months only with ``apigw_free_tier``: accounts created after 2025-07-15 get credits instead.
"""
