"""Scale-out: many `scrapy crawl` workers share one scrapy-redis frontier and one store.

Switched on by `GXCRAWL_REDIS_URL` (environment or `-s`); without it nothing here is active and
a crawl runs exactly as before. With it, the `ScaleOut` add-on swaps in:

- `RunScheduler`: scrapy-redis' scheduler and duplicate filter under per-run keys. Workers started
  with the same arguments join the same run; a finished run's keys are deleted so the next run
  starts clean, while a run whose workers were stopped or killed is resumed by the next worker.
  A worker exits by itself once the frontier has been empty (and no live worker busy) for
  `GXCRAWL_IDLE_CLOSE_SECONDS`.
- `SharedPolitenessMiddleware`: one per-domain request clock in Redis, so the download delay holds
  between all workers together, not per process.
- `SharedRobotsTxtMiddleware`: robots.txt is fetched once per run and domain, by one worker.

Redis layout, under `<GXCRAWL_REDIS_PREFIX>:<run key>`: `state` (hash: status, epoch) and, per
epoch, `<epoch>:requests` (scrapy-redis priority queue), `<epoch>:dupefilter`, `<epoch>:workers`
(set of worker ids), `<epoch>:worker:<id>` (heartbeat with a TTL), `<epoch>:robots` (netloc ->
robots.txt).
Per-domain clocks live at `<prefix>:domain:<netloc>` (shared by every run: politeness is per site).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import build_from_crawler
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue as RedisPriorityQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import task

from gxcrawl.middlewares import RobotsDisallowedMiddleware

log = logging.getLogger(__name__)

REDIS_URL_SETTING = "GXCRAWL_REDIS_URL"
DEFAULT_PREFIX = "gxcrawl"
# Long enough for a slow list page to come back and feed the frontier; short enough that a
# finished pool frees its machines soon.
DEFAULT_IDLE_CLOSE_SECONDS = 30.0
# A worker that has not refreshed its heartbeat for this long is dead (kill -9, lost machine):
# it no longer holds the others open, and it does not count when the run is closed.
DEFAULT_WORKER_TTL_SECONDS = 15
HEARTBEAT_SECONDS = 1.0  # also how soon an idle worker notices requests pushed by another one
ROBOTS_WAIT_SECONDS = 60.0  # how long a worker waits for another one's robots.txt fetch
ROBOTS_POLL_SECONDS = 0.2
ROBOTS_ORDER = 100  # the slot of Scrapy's own RobotsTxtMiddleware
# Last before the download itself (after robots, offsite, not-due and retries have had their say),
# so requests that are dropped take no turn on the domain's clock.
POLITENESS_ORDER = 950
# Per-domain clocks expire once a site has been quiet this long (plus the delay itself).
DOMAIN_CLOCK_TTL_MS = 60_000

# Atomically join the run and register as a busy worker of it. A missing or finished run gets a
# new epoch (clean keys); so does a 'running' one that nothing can resume: no live worker and an
# empty frontier (its last workers were killed after the work ran out).
# KEYS: state. ARGV: now, key base, worker id, heartbeat TTL.
_JOIN = """
local function join(epoch)
  local base = ARGV[2] .. ':' .. epoch
  redis.call('SET', base .. ':worker:' .. ARGV[3], '1', 'EX', ARGV[4])
  redis.call('SADD', base .. ':workers', ARGV[3])
end
local function fresh()
  local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
  redis.call('HSET', KEYS[1], 'status', 'running', 'started', ARGV[1])
  redis.call('HDEL', KEYS[1], 'finished')
  join(epoch)
  return {epoch, 1}
end
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return fresh() end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local base = ARGV[2] .. ':' .. epoch
local alive = redis.call('ZCARD', base .. ':requests') > 0
for _, other in ipairs(redis.call('SMEMBERS', base .. ':workers')) do
  alive = alive or redis.call('EXISTS', base .. ':worker:' .. other) == 1
end
if alive then
  join(epoch)
  return {tonumber(epoch), 0}
end
redis.call('DEL', base .. ':requests', base .. ':requests:domain_seq', base .. ':dupefilter',
  base .. ':workers', base .. ':robots')
return fresh()
"""

# Leave the run; the last worker leaving an empty frontier with reason 'finished' closes it and
# deletes its keys. Workers still busy keep it open (they may add requests); idle or dead ones
# do not. KEYS: state, workers, requests, dupefilter. ARGV: worker id, epoch key base, epoch,
# finished?, now.
_LEAVE = """
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('DEL', ARGV[2] .. ':worker:' .. ARGV[1])
if ARGV[4] ~= '1' then return 0 end
for _, other in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('GET', ARGV[2] .. ':worker:' .. other) == '1' then return 0 end
end
if redis.call('ZCARD', KEYS[3]) > 0 then return 0 end
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[3] then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end  -- closed already
redis.call('HSET', KEYS[1], 'status', 'finished', 'finished', ARGV[5])
redis.call('DEL', KEYS[2], KEYS[3], KEYS[3] .. ':domain_seq', KEYS[4], ARGV[2] .. ':robots')
return 1
"""

# Reserve the next start time of a request to one domain; returns the wait in ms.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], at + interval, 'PX', interval + tonumber(ARGV[2]))
return at - now
"""


def redis_url(settings: Any) -> str:
    """The Redis URL that switches scale-out on ('' = off): `-s` first, then the environment."""
    return str(settings.get(REDIS_URL_SETTING) or os.environ.get(REDIS_URL_SETTING) or "")


class ScaleOut:
    """Scrapy add-on (`ADDONS`): with GXCRAWL_REDIS_URL set, share the frontier through Redis."""

    def update_settings(self, settings: Any) -> None:
        url = redis_url(settings)
        if not url:
            return
        settings.set("REDIS_URL", url, priority="addon")
        settings.set("SCHEDULER", "gxcrawl.scaleout.RunScheduler", priority="addon")
        settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority="addon")
        settings.set("SCHEDULER_PERSIST", True, priority="addon")  # keys outlive a worker
        settings.set("SCHEDULER_QUEUE_CLASS", "gxcrawl.scaleout.DomainFairQueue", priority="addon")
        # 0 = never block in pop(): a blocking pop would stall the event loop.
        settings.set("SCHEDULER_IDLE_BEFORE_CLOSE", 0, priority="addon")
        # Component dicts are edited in place: the project's own DOWNLOADER_MIDDLEWARES outrank
        # an add-on's plain set().
        name = "DOWNLOADER_MIDDLEWARES"
        settings.set_in_component_priority_dict(name, RobotsTxtMiddleware, None)
        settings.set_in_component_priority_dict(name, RobotsDisallowedMiddleware, None)
        settings.set_in_component_priority_dict(name, SharedRobotsTxtMiddleware, ROBOTS_ORDER)
        settings.set_in_component_priority_dict(name, SharedPolitenessMiddleware, POLITENESS_ORDER)


@dataclass(frozen=True)
class RunKeys:
    """The Redis keys of one epoch of one run."""

    base: str  # <prefix>:<run key>
    epoch: int

    @property
    def state(self) -> str:
        return f"{self.base}:state"

    @property
    def epoch_base(self) -> str:
        return f"{self.base}:{self.epoch}"

    @property
    def requests(self) -> str:
        return f"{self.epoch_base}:requests"

    @property
    def dupefilter(self) -> str:
        return f"{self.epoch_base}:dupefilter"

    @property
    def workers(self) -> str:
        return f"{self.epoch_base}:workers"

    def worker(self, worker_id: str) -> str:
        return f"{self.epoch_base}:worker:{worker_id}"

    @property
    def robots(self) -> str:
        return f"{self.epoch_base}:robots"

    def robots_lock(self, netloc: str) -> str:
        return f"{self.epoch_base}:robots_lock:{netloc}"


def join_run(server: Any, base: str, worker_id: str, ttl: int) -> tuple[RunKeys, bool]:
    """Join the run under `base` as a busy worker: its current epoch, or a new one (True) if
    there is nothing to resume."""
    epoch, fresh = server.eval(_JOIN, 1, f"{base}:state", _now(), base, worker_id, ttl)
    return RunKeys(base, int(epoch)), bool(int(fresh))


def run_key(spider: Any, settings: Any) -> str:
    """GXCRAWL_RUN_KEY, else a digest of what the spider crawls: same arguments, same run."""
    explicit = settings.get("GXCRAWL_RUN_KEY")
    if explicit:
        return str(explicit)
    portals = getattr(spider, "portals", {}) or {}
    what = sorted((pid, list(getattr(p, "start_urls", []))) for pid, p in portals.items())
    digest = hashlib.sha1(json.dumps([spider.name, what]).encode("utf-8")).hexdigest()
    return f"{spider.name}-{digest[:12]}"


# Within one priority, the n-th request to each domain sorts before every domain's (n+1)-th, so
# a worker pulls requests for many portals instead of a backlog for one (which would sit in its
# downloader waiting for the per-domain delay). Priorities stay far apart: score = -priority *
# PRIORITY_STRIDE + n, exact in a double while n < PRIORITY_STRIDE.
PRIORITY_STRIDE = 1_000_000_000
# KEYS: queue, per-domain counters. ARGV: netloc, -priority, stride, request.
_PUSH = """
local n = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) * tonumber(ARGV[3]) + n, ARGV[4])
"""


class DomainFairQueue(RedisPriorityQueue):
    """scrapy-redis' priority queue, interleaving domains within a priority (round robin)."""

    def push(self, request: Request) -> None:
        data = self._encode_request(request)
        netloc = urlsplit(request.url).netloc
        self.server.eval(
            _PUSH, 2, self.key, self.sequence_key, netloc, -request.priority, PRIORITY_STRIDE, data
        )

    @property
    def sequence_key(self) -> str:
        return f"{self.key}:domain_seq"

    def clear(self) -> None:
        self.server.delete(self.key, self.sequence_key)


class RunScheduler(RedisScheduler):
    """scrapy-redis' scheduler with per-run keys, worker heartbeats and an idle close."""

    crawler: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunScheduler:
        instance: RunScheduler = super().from_crawler(crawler)
        instance.crawler = crawler
        settings = crawler.settings
        instance.prefix = settings.get("GXCRAWL_REDIS_PREFIX") or DEFAULT_PREFIX
        instance.idle_close = settings.getfloat(
            "GXCRAWL_IDLE_CLOSE_SECONDS", DEFAULT_IDLE_CLOSE_SECONDS
        )
        instance.worker_ttl = settings.getint(
            "GXCRAWL_WORKER_TTL_SECONDS", DEFAULT_WORKER_TTL_SECONDS
        )
        instance.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        instance.per_site = max(1, settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 1))
        crawler.signals.connect(instance._on_idle, signal=signals.spider_idle)
        return instance

    # --- lifecycle -------------------------------------------------------------------------

    def open(self, spider: Any) -> Any:
        name = run_key(spider, self.crawler.settings)
        base = f"{self.prefix}:{name}"
        self.keys, fresh = join_run(self.server, base, self.worker_id, self.worker_ttl)
        self.crawler.gxcrawl_run_keys = self.keys  # read by the shared robots.txt middleware
        self.queue_key = self.keys.requests
        self.dupefilter_key = self.keys.dupefilter
        self.df = RFPDupeFilter(
            self.server,
            key=self.keys.dupefilter,
            debug=self.crawler.settings.getbool("DUPEFILTER_DEBUG"),
        )
        stats = self.crawler.stats
        stats.set_value("gxcrawl/run_key", f"{name}#{self.keys.epoch}")  # links worker rows
        stats.set_value("gxcrawl/run_epoch", self.keys.epoch)
        stats.set_value("gxcrawl/worker", self.worker_id)
        log.info(
            "%s run %s (epoch %s) as worker %s; frontier %s",
            "started" if fresh else "joined",
            name,
            self.keys.epoch,
            self.worker_id,
            self.keys.requests,
        )
        self._idle_since: float | None = None
        self._beat_value = "1"  # join_run registered this worker as busy
        self._active_since_beat = True
        self._heartbeat = task.LoopingCall(self._tick)
        self._heartbeat.start(HEARTBEAT_SECONDS, now=False)
        return super().open(spider)

    def close(self, reason: str) -> Any:
        if self._heartbeat.running:
            self._heartbeat.stop()
        keys = self.keys
        closed = self.server.eval(
            _LEAVE,
            4,
            keys.state,
            keys.workers,
            keys.requests,
            keys.dupefilter,
            self.worker_id,
            keys.epoch_base,
            str(keys.epoch),
            "1" if reason == "finished" else "0",
            _now(),
        )
        if int(closed):
            log.info("run %s epoch %s finished: its keys are deleted", keys.base, keys.epoch)
        else:
            log.info("left run %s epoch %s (%s)", keys.base, keys.epoch, reason)
        return super().close(reason)

    # scrapy-redis' own versions pass `spider=` to the stats (deprecated in Scrapy 2.19: a
    # warning per crawl); otherwise the same.
    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self._mark_busy()  # it is producing requests
        self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        if self._site_busy_here():
            return None  # leave the site's next request to another worker
        request: Request | None = self.queue.pop(self.idle_before_close)
        if request is not None:
            self._mark_busy()  # at once: the beat may be a second away
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def _site_busy_here(self) -> bool:
        """This worker already has CONCURRENT_REQUESTS_PER_DOMAIN requests for the site at the
        head of the frontier. Taking more would only queue them here behind the site's clock,
        while other workers sit idle (and a kill -9 would lose them all)."""
        engine = self.crawler.engine
        head = self.server.zrange(self.queue.key, 0, 0)
        if engine is None or not head:
            return False
        downloader = engine.downloader
        key = downloader.get_slot_key(self.queue._decode_request(head[0]))
        here = sum(1 for r in downloader.active if downloader.get_slot_key(r) == key)
        return here >= self.per_site

    # --- heartbeat and idle close -----------------------------------------------------------

    def _beat(self, *, busy: bool) -> None:
        value = "1" if busy else "0"
        self.server.set(self.keys.worker(self.worker_id), value, ex=self.worker_ttl)
        self._beat_value = value

    def _mark_busy(self) -> None:
        """Busy now, in Redis too: other workers must not see a stale '0' and close the run."""
        self._active_since_beat = True
        if self._beat_value != "1":
            self._beat(busy=True)

    def _tick(self) -> None:
        # Busy if anything happened since the last beat, not only at this instant: a worker
        # that pulls and finishes work between two beats is not idle.
        busy = _engine_busy(self.crawler.engine) or self._active_since_beat
        self._active_since_beat = False
        self._beat(busy=busy)
        if not busy:
            # Take what another worker pushed, or run the idle check, now rather than at
            # Scrapy's next 5 s engine heartbeat.
            _wake(self.crawler.engine)
        self._link_run_row()

    def _link_run_row(self) -> None:
        """Tag this worker's crawl_runs row with the run key as soon as it exists."""
        if getattr(self, "_linked", False):
            return
        run_id = self.crawler.stats.get_value("gxcrawl/run_id")
        if run_id is None:
            return
        from gxcrawl.store.crawlstore import CrawlStore
        from gxcrawl.store.workers import link_run

        store = CrawlStore.for_crawler(self.crawler)
        with store.db.transaction() as session:
            link_run(session, int(run_id), self.crawler.stats.get_value("gxcrawl/run_key"))
        self._linked = True

    def _others_busy(self) -> bool:
        for member in self.server.smembers(self.keys.workers):
            other = member.decode() if isinstance(member, bytes) else str(member)
            if other == self.worker_id:
                continue
            if self.server.get(self.keys.worker(other)) in (b"1", "1"):
                return True
        return False

    def _on_idle(self, spider: Any) -> None:
        """Stay open while the frontier may still grow; close after `idle_close` seconds."""
        now = time.monotonic()
        if len(self.queue) > 0 or self._others_busy():
            self._idle_since = None
            raise DontCloseSpider
        if self._idle_since is None:
            self._idle_since = now
        if now - self._idle_since < self.idle_close:
            raise DontCloseSpider


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _engine_busy(engine: Any) -> bool:
    """Requests downloading, responses being processed or start requests not yet consumed."""
    if engine is None:
        return False
    slot = getattr(engine.scraper, "slot", None)
    return bool(
        engine.downloader.active
        or (slot is not None and not slot.is_idle())
        or getattr(engine, "_start", None) is not None
    )


def _wake(engine: Any) -> None:
    slot = getattr(engine, "_slot", None)
    if slot is not None:
        slot.nextcall.schedule()


def reserve_turn(server: Any, key: str, interval_ms: int) -> int:
    """Take the next turn on a shared clock: milliseconds to wait before sending (0 = now).

    Turns are `interval_ms` apart whoever takes them; Redis' own clock is used, so machines
    with skewed clocks still agree."""
    return int(server.eval(_RESERVE, 1, key, interval_ms, DOMAIN_CLOCK_TTL_MS))


class SharedPolitenessMiddleware:
    """Per-domain politeness across workers: one request clock per domain in Redis.

    Every request reserves the next start time for its domain, `delay` after the previous
    reservation by any worker, and waits for it. The delay is the worker's current download
    delay for that domain (DOWNLOAD_DELAY, as adjusted by AutoThrottle), so N workers together
    send no faster than one worker would.
    """

    def __init__(self, crawler: Any) -> None:
        url = redis_url(crawler.settings)
        if not url:
            raise NotConfigured("no GXCRAWL_REDIS_URL")
        from scrapy_redis.connection import get_redis_from_settings

        self.crawler = crawler
        self.server = get_redis_from_settings(crawler.settings)
        self.prefix = crawler.settings.get("GXCRAWL_REDIS_PREFIX") or DEFAULT_PREFIX
        self.default_delay = crawler.settings.getfloat("DOWNLOAD_DELAY", 0.0)

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedPolitenessMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        interval_ms = int(self._delay(request) * 1000)
        if interval_ms <= 0:
            return None
        netloc = urlsplit(request.url).netloc
        key = f"{self.prefix}:domain:{netloc}"
        wait_ms = reserve_turn(self.server, key, interval_ms)
        if wait_ms > 0:
            self.crawler.stats.inc_value("gxcrawl/shared_delay_waits")
            await _sleep(wait_ms / 1000)
        return None

    def _delay(self, request: Request) -> float:
        downloader = getattr(self.crawler.engine, "downloader", None)
        if downloader is None:
            return self.default_delay
        slot = downloader.slots.get(downloader.get_slot_key(request))
        return float(slot.delay) if slot is not None else self.default_delay


class SharedRobotsTxtMiddleware(RobotsDisallowedMiddleware):
    """robots.txt once per run and domain: the first worker fetches it, the others read it.

    The run's `robots` hash maps a netloc to b"1" + the body, or b"0" when the fetch failed
    (Scrapy then allows everything, and so do the other workers).
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        from scrapy_redis.connection import get_redis_from_settings

        self.server = get_redis_from_settings(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedRobotsTxtMiddleware:
        return cls(crawler)

    @property
    def _keys(self) -> RunKeys:
        keys: RunKeys = getattr(self.crawler, "gxcrawl_run_keys")  # noqa: B009 (set at open)
        return keys

    async def robot_parser(self, request: Request) -> Any:
        netloc = urlsplit(request.url).netloc
        if netloc not in self._parsers:
            shared = self.server.hget(self._keys.robots, netloc)  # a resumed run has it
            lock = self._keys.robots_lock(netloc)
            if shared is None and not self.server.set(
                lock, "1", nx=True, ex=int(ROBOTS_WAIT_SECONDS)
            ):
                shared = await self._wait_for(netloc)  # another worker is fetching it
            if shared is not None and netloc not in self._parsers:
                self._parsers[netloc] = self._from_shared(bytes(shared))
        return await super().robot_parser(request)

    async def _wait_for(self, netloc: str) -> bytes | None:
        deadline = time.monotonic() + ROBOTS_WAIT_SECONDS
        while time.monotonic() < deadline:
            shared = self.server.hget(self._keys.robots, netloc)
            if shared is not None:
                return bytes(shared)
            await _sleep(ROBOTS_POLL_SECONDS)
        return None  # the fetching worker died: fetch it here

    def _from_shared(self, shared: bytes) -> Any:
        self.crawler.stats.inc_value("gxcrawl/robots_shared")
        if not shared.startswith(b"1"):
            return None
        return build_from_crawler(self._parserimpl, self.crawler, shared[1:])

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        self.server.hset(self._keys.robots, netloc, b"1" + response.body)
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        self.server.hset(self._keys.robots, netloc, b"0")
        super()._robots_error(exc, netloc)


async def _sleep(seconds: float) -> None:
    # The reactor is imported here, not at module level: importing it early would install
    # Twisted's default reactor before Scrapy installs the asyncio one.
    from twisted.internet import reactor

    await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))
