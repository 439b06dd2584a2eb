"""The key browsers subscribe to Web Push with, from the VAPID private key as the deployment gives it to
pywebpush: a PEM file's path or the key itself."""

import base64

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from py_vapid import Vapid

from services.notify.channels import vapid_public_key


def _decoded(key):
    return base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))


def test_the_public_key_is_the_private_keys_point_whichever_way_it_is_given(tmp_path):
    vapid = Vapid()
    vapid.generate_keys()
    expected = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    pem = tmp_path / "vapid.pem"
    vapid.save_key(str(pem))
    der = vapid.private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    inline = base64.urlsafe_b64encode(der).rstrip(b"=").decode()

    for given in (str(pem), inline):
        key = vapid_public_key(given)
        assert "=" not in key and _decoded(key) == expected and len(expected) == 65


def test_no_key_configured_means_no_web_push():
    assert vapid_public_key(None) is None and vapid_public_key("") is None
