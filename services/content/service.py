"""content: documents and their audience, reading, the personal notebook (thin nameko entrypoints; what it owns:
services/content/README.md)."""

import logging
import threading

from nameko.extensions import DependencyProvider

from shared import config
from shared.contracts.content import (
    DocumentCreate,
    DocumentQuery,
    DocumentUpdate,
    MyPageQuery,
    NoteCreate,
    NoteUpdate,
    QuizAttempt,
    QuizSet,
    StudyProgressQuery,
    VersionQuery,
)
from shared.db import Database
from shared.kit import MEMBER, Service, command, member_through, query, services
from shared.projection import reread_members
from shared.rpc import Rpc
from shared.subscriber import BURST, subscribe
from services.content import attachments, audience, documents, notes, papers, privacy, progress, reading, study
from services.content.models import Base, directory

log = logging.getLogger(__name__)


class Scheduler(DependencyProvider):
    """Publishes scheduled documents when their time comes. Every replica runs it: each document is claimed by a
    conditional UPDATE (documents.publish_due), so none is published twice."""

    def setup(self):
        self.interval = float(config.get("CONTENT_SCHEDULER_INTERVAL", 2.0))
        self.stopped = threading.Event()

    def start(self):
        self.container.spawn_managed_thread(self._run, identifier="content scheduler")

    def stop(self):
        self.stopped.set()

    kill = stop

    def _run(self):
        database = next(d for d in self.container.dependencies if isinstance(d, Database))
        while not self.stopped.wait(self.interval):
            unit = database.unit_of_work("content.scheduler")
            try:
                documents.publish_due(unit)
            except Exception as exc:  # another replica took the writer, the database is away: next pass
                log.warning("scheduled publication pass failed with %s", type(exc).__name__)
            finally:
                unit.close()


def _document(session, principal, document):
    return reading.document_json(session, audience.reader(session, principal), document)


class ContentService(Service):
    name = "content"

    db = Database(Base.metadata)
    scheduler = Scheduler()
    cluster = Rpc(timeout=30)

    @command(caller=MEMBER, body=DocumentCreate)
    def create_document(self, unit, principal, data):
        return _document(unit.session, principal, documents.create(unit, principal, data))

    @command(caller=MEMBER, body=DocumentUpdate)
    def update_document(self, unit, principal, document_id, data):
        return _document(unit.session, principal, documents.update_document(unit, principal, int(document_id), data))

    @command(caller=MEMBER)
    def publish_document(self, unit, principal, document_id):
        return _document(unit.session, principal, documents.publish(unit, principal, int(document_id)))

    @command(caller=MEMBER)
    def withdraw_document(self, unit, principal, document_id):
        return _document(unit.session, principal, documents.withdraw(unit, principal, int(document_id)))

    @query(caller=member_through("gateway"))
    def may_attach(self, session, principal, document_id):
        return attachments.may_attach(session, principal, int(document_id))

    @command(caller=member_through("gateway"))
    def add_attachment(self, unit, principal, document_id, blob, filename):
        return attachments.add(unit, principal, int(document_id), blob, filename)

    @query(caller=member_through("gateway"))
    def attachment(self, session, principal, document_id, n):
        return attachments.fetch(session, principal, int(document_id), int(n))

    @query(caller=MEMBER, params=DocumentQuery)
    def list_documents(self, session, principal, data=None):
        return reading.versioned_listing(session, principal, data)

    @query(caller=MEMBER, params=VersionQuery)
    def get_document(self, session, principal, document_id, data=None):
        return reading.get(session, principal, int(document_id), data["version"])

    @command(caller=MEMBER)
    def mark_read(self, unit, principal, document_id):
        return reading.mark_read(unit, principal, int(document_id))

    @command(caller=MEMBER)
    def set_bookmark(self, unit, principal, document_id, on):
        return reading.set_bookmark(unit, principal, int(document_id), bool(on))

    @query(caller=MEMBER)
    def unread_count(self, session, principal):
        return reading.unread_count(session, principal)

    @command(caller=MEMBER, body=QuizSet)
    def set_quiz(self, unit, principal, document_id, data):
        return study.set_quiz(unit, principal, int(document_id), data)

    @query(caller=MEMBER)
    def get_quiz(self, session, principal, document_id):
        return study.get_quiz(session, principal, int(document_id))

    @command(caller=MEMBER, body=QuizAttempt)
    def attempt_quiz(self, unit, principal, document_id, data):
        return study.attempt(unit, principal, int(document_id), data["answers"])

    @query(caller=MEMBER, params=MyPageQuery)
    def my_study(self, session, principal, data=None):
        return study.history(session, principal.member_id, data["cursor"], data["limit"])

    @query(caller=MEMBER, params=StudyProgressQuery)
    def study_progress(self, session, principal, organization_id, data=None):
        """The committee view: running totals, no member scanned (progress.py)."""
        return progress.study_progress(session, principal, int(organization_id), data["document_id"])

    @query(caller=MEMBER, params=MyPageQuery)
    def list_notes(self, session, principal, data=None):
        return notes.listing(session, principal.member_id, data["cursor"], data["limit"])

    @query(caller=MEMBER)
    def get_note(self, session, principal, note_id):
        return notes.get(session, principal.member_id, int(note_id))

    @command(caller=MEMBER, body=NoteCreate)
    def create_note(self, unit, principal, data):
        return notes.create(unit, principal.member_id, data)

    @command(caller=MEMBER, body=NoteUpdate)
    def update_note(self, unit, principal, note_id, data):
        return notes.update(unit, principal.member_id, int(note_id), data)

    @command(caller=MEMBER)
    def delete_note(self, unit, principal, note_id):
        return notes.delete(unit, principal.member_id, int(note_id))

    @query(caller=services("meetings"))
    def papers_reaching(self, session, principal, organization_path, document_ids):
        """Which of a meeting's papers its organisation's members all see (meetings checks its agenda with it)."""
        return audience.papers_reaching(session, str(organization_path), [int(i) for i in document_ids][:200])

    # a meeting's papers: meetings has decided the member sees the meeting and the document is one of its papers
    @query(caller=member_through("meetings"))
    def paper(self, session, principal, document_id):
        return papers.get(session, principal, int(document_id))

    @query(caller=member_through("meetings"))
    def paper_attachment(self, session, principal, document_id, n):
        return papers.attachment(session, principal, int(document_id), int(n))

    @query(caller=member_through("meetings"))
    def papers_for_minutes(self, session, principal, organization_path, document_ids):
        """Which documents the member publishing a meeting's minutes may make its papers (papers.py)."""
        return papers.for_minutes(session, principal, str(organization_path), [int(i) for i in document_ids][:200])

    @query(caller=member_through("gateway"))
    def export_member(self, session, principal, member_id):
        return privacy.export(session, principal, member_id)

    @command(caller=member_through("members"))
    def erase_member(self, unit, principal, member_id, reason):
        """Ordered by members, which decided it (an administrator asked, with a reason): see privacy.py."""
        return privacy.erase(unit, principal, int(member_id), str(reason))

    def _telling(self, effect):
        """`effect` on the directory, and content.reader_moved when the documents addressed to the member changed
        (their lists kept elsewhere: the gateway's known versions), in its transaction."""

        def apply(session, item):
            member_id = effect(session, item)
            if member_id is not None:
                self.db.publish("content.reader_moved", {"member_id": member_id})

        return apply

    # members' changes come in bursts (an organisation's members added, moved or corrected together): applied a
    # batch to a transaction, each effect as it was one to a transaction
    @subscribe("members", "members.member_created", batch=BURST)
    def on_member_created(self, envelopes):
        self.db.once_each(envelopes, self._telling(progress.member_changed))

    @subscribe("members", "members.member_updated", batch=BURST)
    def on_member_updated(self, envelopes):
        self.db.once_each(envelopes, self._telling(progress.member_changed))

    @subscribe("members", "members.members_imported")
    def on_members_imported(self, envelope):
        reread_members(self.db, self.cluster.members, envelope, self._telling(progress.project_member))

    @subscribe("members", "members.position_changed")
    def on_position_changed(self, envelope):
        self.db.once(envelope, audience.position_changed)

    @subscribe("members", "members.org_rollout_changed")
    def on_rollout_changed(self, envelope):
        self.db.once(envelope, directory.rollout_changed)

    @subscribe("members", "members.member_erased")
    def on_member_erased(self, envelope):
        self.db.once(envelope, progress.member_erased)
