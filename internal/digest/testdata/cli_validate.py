"""Runs the AWS CLI's own `aws cloudtrail validate-logs` code against a bucket described in a
JSON file, with the real CloudTrail client pointed at an OpenTrail endpoint and S3 faked.

    python3 cli_validate.py SPEC.json
    python3 cli_validate.py --batch SPEC.json...   # each result to SPEC.json.out as
                                                   # {"stdout":..., "stderr":..., "code":...}

SPEC: {"region": "us-east-1", "endpoint_url": "http://127.0.0.1:PORT",
       "args": {"trail_arn": ..., "start_time": ..., "end_time": ..., "s3_bucket": ...,
                "s3_prefix": null, "account_id": null, "verbose": true},
       "objects": [{"bucket": ..., "key": ..., "body": <base64>, "metadata": {...}}],
       "public_keys": [...]}

Without endpoint_url, ListPublicKeys is answered from public_keys (the wire form:
{"Value": <base64>, "Fingerprint": ..., "ValidityStartTime": <epoch>, "ValidityEndTime": <epoch>}),
returning every key whose validity overlaps the requested range.

Credentials come from the standard AWS_* environment variables. Stdout, stderr and the exit
status are those of the CLI command (255 and the message on stderr for an exception, as the
CLI reports them).
"""
import argparse
import base64
import io
import json
import sys

import botocore.session
from botocore.exceptions import ClientError

from awscli.customizations.cloudtrail.validation import CloudTrailValidateLogs


class FakeS3:
    """The three calls validate-logs makes: ListObjects (V1) pages, GetObject."""

    def __init__(self, objects):
        self.objects = objects  # {(bucket, key): (body, metadata)}

    def get_paginator(self, name):
        assert name == 'list_objects', name
        return self

    def paginate(self, Bucket, Marker='', Prefix=''):
        keys = sorted(k for (b, k) in self.objects if b == Bucket and k > Marker and k.startswith(Prefix))
        return FakePages(keys)

    def get_object(self, Bucket, Key):
        if (Bucket, Key) not in self.objects:
            raise ClientError({'Error': {'Code': 'NoSuchKey', 'Message': 'The specified key does not exist.'}}, 'GetObject')
        body, meta = self.objects[(Bucket, Key)]
        return {'Body': io.BytesIO(body), 'Metadata': dict(meta)}


class FakePages:
    def __init__(self, keys):
        self.keys = keys

    def search(self, expr):
        assert expr == 'Contents[*].Key', expr
        return iter(self.keys)


class FakeCloudTrail:
    def __init__(self, keys):
        self.keys = keys

    def list_public_keys(self, StartTime, EndTime):
        start, end = StartTime.timestamp(), EndTime.timestamp()
        return {'PublicKeyList': [k for k in self.keys if k['ValidityStartTime'] <= end and k['ValidityEndTime'] > start]}


class FakeS3Provider:
    def __init__(self, s3):
        self.s3 = s3

    def get_client(self, bucket_name):
        return self.s3


def validate(path):
    """Runs one spec; returns the exit status."""
    with open(path) as f:
        spec = json.load(f)
    objects = {(o['bucket'], o['key']): (base64.b64decode(o['body']), o.get('metadata') or {}) for o in spec['objects']}
    session = botocore.session.get_session()
    # As the CLI does (awscli.customizations.scalarparse): blobs stay base64 text.
    session.get_component('response_parser_factory').set_parser_defaults(blob_parser=lambda x: x)

    class Command(CloudTrailValidateLogs):
        def setup_services(self, parsed_globals):
            self._source_region = parsed_globals.region
            self.s3_client_provider = FakeS3Provider(FakeS3(objects))
            self.organization_client = None
            if parsed_globals.endpoint_url:
                self.cloudtrail_client = session.create_client(
                    'cloudtrail', region_name=parsed_globals.region, endpoint_url=parsed_globals.endpoint_url)
            else:
                self.cloudtrail_client = FakeCloudTrail(spec['public_keys'])

    a = spec['args']
    args = argparse.Namespace(
        trail_arn=a['trail_arn'], start_time=a['start_time'], end_time=a.get('end_time'),
        s3_bucket=a.get('s3_bucket'), s3_prefix=a.get('s3_prefix'), account_id=a.get('account_id'),
        verbose=a.get('verbose', False))
    parsed_globals = argparse.Namespace(region=spec['region'], endpoint_url=spec.get('endpoint_url'), verify_ssl=True)
    try:
        return Command(session)._run_main(args, parsed_globals)
    except Exception as e:  # the CLI prints the message and exits 255
        sys.stderr.write('\n%s\n' % e)
        return 255


def main():
    if sys.argv[1] != '--batch':
        rc = validate(sys.argv[1])
        sys.stdout.flush()
        sys.exit(rc)
    real_out, real_err = sys.stdout, sys.stderr
    for path in sys.argv[2:]:
        sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
        try:
            rc = validate(path)
            result = {'stdout': sys.stdout.getvalue(), 'stderr': sys.stderr.getvalue(), 'code': rc}
        finally:
            sys.stdout, sys.stderr = real_out, real_err
        with open(path + '.out', 'w') as f:
            json.dump(result, f)


if __name__ == '__main__':
    main()
