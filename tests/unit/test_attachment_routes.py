"""The gateway's attachment routes without a broker: content is asked before a byte is read, and a file content
refuses after it was stored is deleted again, so nothing is left behind."""

import io
import os
from types import SimpleNamespace

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from shared.contracts.content import DocumentStateConflict
from shared.errors import Conflict, Forbidden
from services.gateway import handlers
from tests.support import samples

pytestmark = pytest.mark.usefixtures("blob_dir")


class Content:
    def __init__(self, refuse_before=None, refuse_after=None):
        self.refuse_before, self.refuse_after, self.added = refuse_before, refuse_after, []

    def may_attach(self, document_id):
        if self.refuse_before:
            raise self.refuse_before

    def add_attachment(self, document_id, blob, filename):
        if self.refuse_after:
            raise self.refuse_after
        self.added.append((document_id, blob, filename))
        return {"n": 1, "name": filename, "content_type": blob["content_type"], "size": blob["size"]}


def _upload(content, data, name="Nghị quyết.pdf"):
    service = SimpleNamespace(rpc=SimpleNamespace(content=content))
    builder = EnvironBuilder(method="POST", data={"file": (io.BytesIO(data), name)})
    return handlers.add_attachment(service, None, Request(builder.get_environ()), 7)


def _stored(blob_dir):
    return [f for _, _, files in os.walk(blob_dir) for f in files]


def test_an_accepted_file_is_stored_and_named(blob_dir):
    content = Content()
    answer = _upload(content, samples.pdf(5000))
    assert answer == {"n": 1, "name": "Nghị quyết.pdf", "content_type": "application/pdf", "size": 5000}
    assert len(_stored(blob_dir)) == 1 and content.added[0][1]["key"] in _stored(blob_dir)[0]


@pytest.mark.parametrize("refusal", [Conflict(), DocumentStateConflict(), Forbidden()])
def test_a_file_content_refuses_after_it_was_stored_is_deleted(blob_dir, refusal):
    with pytest.raises(type(refusal)):
        _upload(Content(refuse_after=refusal), samples.pdf(5000))
    assert _stored(blob_dir) == []


def test_a_caller_who_may_not_attach_is_refused_before_the_file_is_read(blob_dir):
    with pytest.raises(Forbidden):
        _upload(Content(refuse_before=Forbidden()), samples.pdf(5000))
    assert _stored(blob_dir) == []
