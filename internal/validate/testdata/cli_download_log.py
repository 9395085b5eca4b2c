"""Checks log file bodies with the AWS CLI's own code: CloudTrailValidateLogs._download_log
(awscli/customizations/cloudtrail/validation.py), which reads the object in 2048-byte chunks,
inflates them with zlib in gzip mode, hashes the output and compares the hash with the digest's.

Reads requests from stdin until EOF: a 4-byte big-endian length, then that many bytes: the
expected SHA-256 as 64 hex characters and the body. Writes one line per request: valid,
mismatch (INVALID: hash value doesn't match) or format (INVALID: invalid format).
"""
import io
import struct
import sys

from awscli.customizations.cloudtrail.validation import CloudTrailValidateLogs


class Body:
    def __init__(self, data):
        self._r = io.BytesIO(data)

    def read(self, n=-1):
        return self._r.read(n)


class Client:
    def __init__(self, data):
        self._data = data

    def get_object(self, Bucket, Key):
        return {'Body': Body(self._data)}


class Provider:
    def __init__(self):
        self.data = b''

    def get_client(self, bucket_name):
        return Client(self.data)


def main():
    provider = Provider()
    cmd = CloudTrailValidateLogs.__new__(CloudTrailValidateLogs)
    cmd.s3_client_provider = provider
    cmd.is_verbose = True
    cmd._is_last_status_double_space = False
    cmd._valid_logs = cmd._invalid_logs = 0
    status = []
    cmd._write_status = lambda message, is_error=False: status.append(message)
    stdin, stdout = sys.stdin.buffer, sys.stdout
    while True:
        n = stdin.read(4)
        if len(n) < 4:
            return
        req = stdin.read(struct.unpack('>I', n)[0])
        provider.data = req[64:]
        status.clear()
        cmd._download_log({'s3Bucket': 'b', 's3Object': 'k', 'hashValue': req[:64].decode()})
        line = status[-1]
        if line.endswith('\tvalid'):
            stdout.write('valid\n')
        elif line.endswith("hash value doesn't match"):
            stdout.write('mismatch\n')
        elif line.endswith('invalid format'):
            stdout.write('format\n')
        else:
            stdout.write('unexpected: ' + line + '\n')
        stdout.flush()


main()
