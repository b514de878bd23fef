"""The AWS proof (``make aws-proof``, ``python -m devtools.awsproof``): deploy the example app to a
sandbox account, prove what only AWS can show, record it, and tear everything down.

Not part of the wheel: it reads this repository's environments and demo model and writes into ``docs/``.

One concern per module:

``plan``
    What a run creates (stacks, models, front doors), the checks it makes and what it costs; no AWS.
``session``
    The account confirmation (``AWS_PROOF_ACCOUNT`` must equal the caller's account).
``models``
    The models the proof serves: the demo iris pipeline, a DataFrame pipeline, and the rollback's
    replacement model.
``proof_app``
    The CDK app the pinned CDK CLI synthesizes for the proof (one stack per environment and run).
``deploy``
    ``cdk deploy`` command lines, the outputs file, stack resources and teardown.
``calls``
    SigV4-signed HTTP requests through each front door, compared with scikit-learn's answers.
``logs``
    ``REPORT`` log lines: init, SnapStart restore, provisioned concurrency answering without init.
``metrics``
    The metrics the deployed alarms read exist with the alarms' names and dimensions.
``rollback``
    A version whose model object is overwritten is refused, the alarm fires, CodeDeploy rolls back.
``report``
    The JSON record and the Markdown report under ``docs/aws-proof/``.
``run``
    The order of the steps, and teardown after success, failure or interrupt.
``__main__``
    The command line: ``--dry-run``, ``--keep``, ``--region``.
``clock``
    Time, injectable: every wait has a timeout that tests run without sleeping.

Only ``proof_app`` imports ``aws_cdk`` (it runs inside ``cdk synth``); the rest imports boto3 only
where it talks to AWS, so ``--dry-run`` needs neither credentials nor jsii.
"""
