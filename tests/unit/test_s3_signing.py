"""The S3 client signs as AWS Signature Version 4 says: AWS's own published examples, byte for byte."""

from datetime import UTC, datetime

from shared.s3 import EMPTY_SHA256, S3

# the example credentials and bucket of AWS's "Signature Calculations for the Authorization Header" examples
EXAMPLE = S3("examplebucket", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region="us-east-1")
WHEN = datetime(2013, 5, 24, tzinfo=UTC)


def signature(headers):
    return headers["authorization"].rpartition("Signature=")[2]


def test_get_object_with_a_range():
    headers = EXAMPLE.sign("GET", EXAMPLE.url("test.txt"), {"range": "bytes=0-9"}, EMPTY_SHA256, WHEN)
    assert EXAMPLE.url("test.txt") == "https://examplebucket.s3.us-east-1.amazonaws.com/test.txt"
    assert headers["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
    )


def test_the_published_signatures():
    # AWS's examples address the bucket as examplebucket.s3.amazonaws.com (the global endpoint)
    example = S3(
        "examplebucket", EXAMPLE.access_key, EXAMPLE.secret_key, endpoint="https://examplebucket.s3.amazonaws.com"
    )
    example.prefix = ""
    get = example.sign("GET", example.url("test.txt"), {"range": "bytes=0-9"}, EMPTY_SHA256, WHEN)
    assert signature(get) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    listing = example.sign("GET", example.url(query={"prefix": "J", "max-keys": 2}), {}, EMPTY_SHA256, WHEN)
    assert example.url(query={"prefix": "J", "max-keys": 2}).endswith("/?max-keys=2&prefix=J")
    assert signature(listing) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"


def test_query_values_are_encoded_once_and_sorted():
    client = S3("bucket", "AK", "SK", endpoint="http://127.0.0.1:9000/")
    url = client.url("Ab-_9", {"uploadId": "a/b+c=d", "partNumber": 3})
    assert url == "http://127.0.0.1:9000/bucket/Ab-_9?partNumber=3&uploadId=a%2Fb%2Bc%3Dd"
