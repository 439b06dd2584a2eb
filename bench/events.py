"""Events end to end (issue 14, item 4): `python -m bench.events [--events N] [--batches 0,B]` (part of `make bench`;
the one-delivery-per-worker baseline runs `--events-one-by-one` events, 5,000).

In one run, on throw-away vhosts:
  raw      the broker alone, with pika: N messages of the same size as the envelope below, persistent, publisher
           confirms on (up to WINDOW unconfirmed), into a durable queue; a second process consumes them (prefetch
           WINDOW, a multiple ack every 100). The clock stops when the consumer has acked the last.
  ours     N `members.member_updated` events committed into a producer's outbox before the clock starts
           (`UnitOfWork.publish`, 100 events a transaction, bench/event_services.py); the clock starts when the
           producer's container starts its relay (shared/outbox.py) and stops when the consumer's container
           (`@subscribe`, one worker per delivery, and then batches of B) has committed every effect, a row of its
           own database written idempotently (counted).
Each on SQLite, and on PostgreSQL too when BENCH_BACKENDS names it and a server answers (bench/backends.py).
Printed: the rate, its ratio to the raw rate, and CPU ms per event of each process (the publisher, the consumer,
the broker: /proc, user + system; the broker's figure carries whatever else uses it meanwhile).
"""

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager

import pika
from sqlalchemy import create_engine, text

from bench import memory
from bench.backends import BACKENDS, PG_SERVER
from bench.meter import broker_pid
from tests.support import rabbit
from tests.support.postgres import NoServer, scratch_database
from tests.support.waiting import stop_process, wait_for

WINDOW = 1000  # unconfirmed messages a raw publisher keeps in flight; the raw consumer's prefetch
RAW_QUEUE = "bench-raw"
SERVICES = ("members", "ledger")  # the producer (its outbox) and the consumer (its effects)


def envelope_body():
    """A `members.member_updated` envelope as the relay publishes it (JSON): the raw messages' size."""
    import json
    import uuid
    from datetime import UTC, datetime

    from shared.events import envelope

    payload = {
        "member_id": 123456,
        "citizen_id": "000000123456",
        "full_name": "Nguyễn Thị Đảng Viên 123456",
        "date_of_birth": "1980-05-17",
        "status": "official",
        "organization_id": 1459,
        "organization_path": "/1/2/1459/",
        "phone": "+84910123456",
        "email": None,
        "activated": True,
    }
    body = envelope("members.member_updated", payload, uuid.uuid4().hex, uuid.uuid4(), datetime.now(UTC))
    return json.dumps(body).encode()


# --- the broker alone (pika) ---------------------------------------------------------------------------------------


def raw_publish(uri, body, n):
    """Publish `n` persistent messages with confirms, up to WINDOW unconfirmed at a time."""
    state = {"sent": 0, "confirmed": 0}
    properties = pika.BasicProperties(delivery_mode=2, content_type="application/json")

    def fill(channel):
        while state["sent"] < n and state["sent"] - state["confirmed"] < WINDOW:
            channel.basic_publish("", RAW_QUEUE, body, properties)
            state["sent"] += 1

    def on_confirm(frame):
        if isinstance(frame.method, pika.spec.Basic.Nack):
            raise RuntimeError("the broker refused a message")
        state["confirmed"] = max(state["confirmed"], frame.method.delivery_tag)
        if state["confirmed"] >= n:
            connection.close()
        else:
            fill(channel_of["it"])

    channel_of = {}

    def on_channel(channel):
        channel_of["it"] = channel
        channel.confirm_delivery(on_confirm, callback=lambda _frame: fill(channel))

    connection = pika.SelectConnection(
        pika.URLParameters(uri),
        on_open_callback=lambda conn: conn.channel(on_open_callback=on_channel),
        on_close_callback=lambda conn, reason: conn.ioloop.stop(),
    )
    connection.ioloop.start()


def raw_consume(uri, n):
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=WINDOW)
    received = 0
    for method, _properties, _body in channel.consume(RAW_QUEUE):
        received += 1
        if received % 100 == 0 or received == n:
            channel.basic_ack(method.delivery_tag, multiple=True)
        if received == n:
            break
    channel.cancel()
    connection.close()


def raw_rate(n):
    vhost, uri = rabbit.create_vhost("sotay_bench_raw")
    try:
        with pika.BlockingConnection(pika.URLParameters(uri)) as connection:
            connection.channel().queue_declare(RAW_QUEUE, durable=True)
        body = envelope_body()
        fork = multiprocessing.get_context("fork")
        consumer = fork.Process(target=raw_consume, args=(uri, n))
        publisher = fork.Process(target=raw_publish, args=(uri, body, n))
        broker = broker_pid()
        rest = background(broker)
        broker_before = memory.cpu_seconds(broker) if broker else 0.0
        started = time.perf_counter()
        consumer.start()
        publisher.start()
        cpu = {"publisher": 0.0, "consumer": 0.0}
        for name, process in (("publisher", publisher), ("consumer", consumer)):
            while process.is_alive():  # its CPU read just before it ends
                cpu[name] = memory.cpu_seconds(process.pid) or cpu[name]
                process.join(0.02)
            if process.exitcode != 0:
                raise SystemExit(f"the raw {name} failed")
        elapsed = time.perf_counter() - started
        if broker:
            cpu["broker"] = max(0.0, memory.cpu_seconds(broker) - broker_before - rest * elapsed)
        return {"rate": n / elapsed, "seconds": elapsed, "size": len(body), "cpu_ms": per_event(cpu, n)}
    finally:
        rabbit.delete_vhost(vhost)


def background(broker, seconds=2.0):
    """CPU seconds per second the broker spends on everything else (other vhosts, other users of this machine's
    broker) just before a run: taken off the run's figure in proportion to its length."""
    if not broker:
        return 0.0
    before, began = memory.cpu_seconds(broker), time.monotonic()
    time.sleep(seconds)  # a sampling window, not a wait for anything
    return (memory.cpu_seconds(broker) - before) / (time.monotonic() - began)


def per_event(cpu, n):
    return {part: seconds * 1000 / n for part, seconds in cpu.items()}


# --- through our parts ---------------------------------------------------------------------------------------------


@contextmanager
def databases(backend):
    """Environment naming the producer's and the consumer's databases on `backend` (SQLite: files in DATA_DIR)."""
    if backend == "sqlite":
        yield {}
        return
    with ExitStack() as stack:
        yield {
            f"{service.upper()}_DATABASE_URL": stack.enter_context(
                scratch_database(f"sotay_bench_{service}", PG_SERVER)
            )
            for service in SERVICES
        }


def end_to_end(n, batch, backend):
    vhost, uri = rabbit.create_vhost("sotay_bench_events")
    data_dir = tempfile.mkdtemp(prefix="sotay-bench-events-")
    try:
        with databases(backend) as urls:
            env = {
                **os.environ,
                **urls,
                "AMQP_URI": uri,
                "DATA_DIR": data_dir,
                "BENCH_EVENTS_BATCH": str(batch),
                "QUEUE_TYPE": "classic",
                "PYTHONWARNINGS": "ignore",
            }
            run = [sys.executable, "-m", "bench.event_services"]
            subprocess.run([*run, "prepare", str(n)], env=env, check=True)
            where = {s: urls.get(f"{s.upper()}_DATABASE_URL") or f"sqlite:///{data_dir}/{s}.db" for s in SERVICES}
            with running(run, env, "ledger") as ledger, running(run, env, "source") as source:
                return measure(n, source, ledger, where)
    finally:
        rabbit.delete_vhost(vhost)
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def running(command, env, role):
    """A service of bench/event_services.py in its own process, once it says it has started (the source: is ready
    to start, waiting for a line on stdin)."""
    process = subprocess.Popen([*command, role], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        said = process.stdout.readline().strip()
        if said not in ("started", "ready"):
            raise SystemExit(f"the {role} did not start")
        yield process
    finally:
        stop_process(process)


def measure(n, source, ledger, urls):
    """Start the source's relay and time until the ledger has committed `n` effects (and until the relay has sent
    the last event: whether it or the consumer sets the pace)."""
    pids = {"publisher": source.pid, "consumer": ledger.pid}
    broker = broker_pid()
    rest = background(broker)
    if broker:
        pids["broker"] = broker
    engine, outbox = create_engine(urls["ledger"]), create_engine(urls["members"])
    count = text("SELECT count(*) FROM effects")
    pending = text("SELECT count(*) FROM outbox WHERE state = 'pending'")
    relayed = {}
    before = {part: memory.cpu_seconds(pid) for part, pid in pids.items()}
    started = time.perf_counter()
    source.stdin.write("go\n")
    source.stdin.flush()
    try:
        with engine.connect() as conn, outbox.connect() as source_conn:

            def done():
                if not relayed and source_conn.execute(pending).scalar_one() == 0:
                    relayed["at"] = time.perf_counter() - started
                return conn.execute(count).scalar_one() >= n

            wait_for(done, timeout=600, interval=0.02, message="every effect committed")
            elapsed = time.perf_counter() - started
            cpu = {part: memory.cpu_seconds(pid) - before[part] for part, pid in pids.items()}
            effects = conn.execute(count).scalar_one()
    finally:
        engine.dispose()
        outbox.dispose()
    if broker:
        cpu["broker"] = max(0.0, cpu["broker"] - rest * elapsed)
    if effects != n:
        raise SystemExit(f"{effects} effects for {n} events")
    return {"rate": n / elapsed, "seconds": elapsed, "relayed": relayed.get("at", elapsed), "cpu_ms": per_event(cpu, n)}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", 20_000)))
    parser.add_argument(
        "--batches",
        default=os.environ.get("BENCH_EVENTS_BATCHES", "0,200"),
        help="the consumer's batch sizes to run, 0 for one delivery per worker (default: 0,200)",
    )
    parser.add_argument(
        "--events-one-by-one",
        type=int,
        default=int(os.environ.get("BENCH_EVENTS_ONE_BY_ONE", 5_000)),
        help="events for the one-delivery-per-worker baseline (default 5,000: at ~1,000/s it is a rate by then, "
        "and make bench stays under 15 minutes)",
    )
    args = parser.parse_args(argv)
    load = os.getloadavg()
    raw = raw_rate(args.events)
    rows = [("broker alone (pika)", raw)]
    for backend in BACKENDS:
        for batch in (int(size) for size in args.batches.split(",")):
            n = args.events if batch else min(args.events, args.events_one_by_one)
            label = f"ours, {backend}, " + (f"batches of {batch}" if batch else f"one per worker ({n:,})")
            try:
                rows.append((label, end_to_end(n, batch, backend)))
            except NoServer as exc:
                print(f"{label}: skipped ({exc})")
                break
    print(
        f"\nbench.events — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
        f"load {load[0]:.2f}; {args.events:,} events of {raw['size']} bytes"
    )
    print(
        f"{'':38} {'events/s':>9} {'× raw':>6} {'all sent':>9} {'CPU ms/event: publisher':>24} {'consumer':>9} "
        f"{'broker':>7} {'sum':>6}"
    )
    for label, row in rows:
        cpu = row["cpu_ms"]
        sent = f"{row['relayed'] / row['seconds']:.0%}" if "relayed" in row else ""
        print(
            f"{label:38} {row['rate']:9,.0f} {row['rate'] / raw['rate']:6.2f} {sent:>9} {cpu['publisher']:24.3f} "
            f"{cpu['consumer']:9.3f} {cpu.get('broker', 0):7.3f} {sum(cpu.values()):6.3f}"
        )
    print("all sent: when the relay had published the last event, as a share of the run")


if __name__ == "__main__":
    main()
