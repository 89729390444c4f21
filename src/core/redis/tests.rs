use super::*;
use crate::core::clock::FakeClock;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicUsize;

fn fake() -> Arc<FakeClock> {
    Arc::new(FakeClock::new(1_000))
}

#[test]
fn health_reports_one_outage_and_one_recovery() {
    let clock = fake();
    let h = Health::new(clock.clone(), 100);
    assert_eq!(h.gate(), Gate::Up);
    assert_eq!(h.on_failure(), Some(()));
    assert_eq!(
        h.on_failure(),
        None,
        "second failure of the same outage is silent"
    );
    assert!(h.is_down());
    assert_eq!(h.gate(), Gate::Skip, "no probe before the interval");
    clock.advance(100);
    assert_eq!(h.gate(), Gate::Probe);
    assert_eq!(h.gate(), Gate::Skip, "one probe per interval");
    assert_eq!(
        h.on_success(Gate::Up),
        None,
        "a late reply is not a recovery"
    );
    assert!(h.is_down());
    assert_eq!(h.on_success(Gate::Probe), Some(100));
    assert!(!h.is_down());
    assert_eq!(h.gate(), Gate::Up);
    assert_eq!(h.on_success(Gate::Probe), None);
}

#[test]
fn failed_probe_waits_a_full_interval() {
    let clock = fake();
    let h = Health::new(clock.clone(), 50);
    h.on_failure();
    clock.advance(50);
    assert_eq!(h.gate(), Gate::Probe);
    clock.advance(10);
    assert_eq!(h.on_failure(), None);
    clock.advance(45);
    assert_eq!(h.gate(), Gate::Skip);
    clock.advance(5);
    assert_eq!(h.gate(), Gate::Probe);
    assert_eq!(h.down_for_ms(), 110);
}

#[test]
fn the_local_limiter_answers_like_the_redis_script() {
    use crate::core::rate_limit::{RateLimitConfig, RateLimiter};
    let clock = fake();
    let l = RateLimiter::new(RateLimitConfig::new(3, 3000), clock.clone())
        .unwrap_or_else(|e| panic!("{e}"));
    let l: &dyn LocalLimiter = &l;
    let seen: Vec<_> = (0..4).map(|_| l.check("k", 1)).collect();
    assert_eq!(
        seen.iter()
            .map(|d| (d.allowed, d.remaining))
            .collect::<Vec<_>>(),
        vec![(true, 2), (true, 1), (true, 0), (false, 0)]
    );
    assert_eq!(seen[3].retry_after_ms, 1000);
    assert_eq!(seen[3].reset_ms, 3000);
    assert_eq!(l.check("k", -1).remaining, 1);
    assert_eq!(l.check("k", 0).remaining, 1);
    clock.advance(1000);
    assert_eq!(l.check("k", 0).remaining, 2);
    l.reset("k");
    assert_eq!(l.check("k", 0).remaining, 3);
}

#[test]
fn glob_characters_are_escaped() {
    assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
}

#[test]
fn decisions_parse_from_script_replies() {
    let v = Value::Array(vec![
        Value::Int(1),
        Value::Int(4),
        Value::Int(0),
        Value::Int(200),
        Value::Int(2),
    ]);
    assert_eq!(
        parse_decision(&v),
        Some(Decision {
            allowed: true,
            remaining: 4,
            retry_after_ms: 0,
            reset_ms: 200,
            denied_hits: 2
        })
    );
    assert_eq!(parse_decision(&Value::Nil), None);
    assert_eq!(parse_decision(&Value::Array(vec![Value::Int(1)])), None);
}

#[test]
fn a_bad_url_is_refused_without_io() {
    let opts = ConnOptions {
        url: "http://nope".into(),
        timeout_ms: 100,
        probe_interval_ms: 100,
        cluster: false,
    };
    assert!(RedisConn::new(&opts, fake()).is_err());
}

/// A real redis-server on a free port, stopped on drop. `None` when it cannot start.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = Self { child, port };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// The server for a test that needs one. Without redis-server a developer's run skips
    /// the test (with a note), but a CI run (`CI` set) fails: a skipped test must not pass
    /// there.
    fn for_test(name: &str) -> Option<Self> {
        let server = Self::start();
        if server.is_none() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{name}: redis-server could not be started, and CI is set"
            );
            eprintln!("skipped {name}: redis-server could not be started");
        }
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct CountingLocal(AtomicUsize);

impl LocalLimiter for CountingLocal {
    fn check(&self, _key: &str, _cost: i64) -> Decision {
        self.0.fetch_add(1, Ordering::SeqCst);
        Decision {
            allowed: false,
            remaining: 0,
            retry_after_ms: 7,
            reset_ms: 7,
            denied_hits: 0,
        }
    }
    fn reset(&self, _key: &str) {}
    fn reset_all(&self) {}
}

fn limiter(url: &str, insurance: Insurance, local: Arc<CountingLocal>) -> RedisLimiter {
    limiter_with(url, insurance, local, 2)
}

fn limiter_with(
    url: &str,
    insurance: Insurance,
    local: Arc<CountingLocal>,
    max_in_flight: usize,
) -> RedisLimiter {
    let opts = LimiterOptions {
        conn: ConnOptions {
            url: url.into(),
            timeout_ms: 500,
            probe_interval_ms: 1_000_000,
            cluster: false,
        },
        prefix: "t:".into(),
        insurance,
        max_in_flight,
    };
    let l = RedisLimiter::new(
        opts,
        fake(),
        Box::new(move |_| Some(Arc::clone(&local) as Arc<dyn LocalLimiter>)),
    );
    l.unwrap_or_else(|e| panic!("limiter: {e}"))
}

async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    let client = Client::open(url).unwrap_or_else(|e| panic!("{e}"));
    client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn gcra_allows_exactly_the_limit_and_keys_expire() {
    let Some(server) = Server::for_test("gcra_allows_exactly_the_limit_and_keys_expire") else {
        return;
    };
    let l = limiter(
        &server.url(),
        Insurance::Closed,
        Arc::new(CountingLocal(0.into())),
    );
    assert!(l.check("k", 1, false).await.is_none(), "no quota yet");
    l.set_quota(Quota {
        window_ms: 3_600_000,
        limit: 5,
    });
    let mut remaining = vec![];
    for _ in 0..5 {
        let o = l
            .check("k", 1, false)
            .await
            .unwrap_or_else(|| panic!("quota"));
        assert_eq!(o.source, Source::Redis);
        assert!(o.decision.allowed);
        remaining.push(o.decision.remaining);
    }
    assert_eq!(remaining, vec![4, 3, 2, 1, 0]);
    let denied = l
        .check("k", 1, false)
        .await
        .unwrap_or_else(|| panic!("quota"));
    assert!(!denied.decision.allowed);
    // One unit comes back every window / limit = 720 s.
    assert!((719_000..=720_000).contains(&denied.decision.retry_after_ms));
    assert!(denied.decision.reset_ms <= 3_600_000 && denied.decision.reset_ms > 3_590_000);
    let mut c = raw(&server.url()).await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg("t:k")
        .query_async(&mut c)
        .await
        .unwrap_or(-3);
    assert!(ttl > 3_590_000 && ttl <= 3_600_000, "ttl {ttl}");
    // Giving one back allows one more; reading consumes nothing.
    let back = l
        .check("k", -1, false)
        .await
        .unwrap_or_else(|| panic!("quota"));
    assert_eq!(back.decision.remaining, 1);
    let peek = l
        .check("k", 0, false)
        .await
        .unwrap_or_else(|| panic!("quota"));
    assert_eq!(peek.decision.remaining, 1);
    assert!(l
        .check("k", 1, false)
        .await
        .is_some_and(|o| o.decision.allowed));
    assert!(l
        .check("k", 1, false)
        .await
        .is_some_and(|o| !o.decision.allowed));
    // A Store counts denied hits: giving one back cancels a denied hit, not a unit.
    let counted = l
        .check("k", 1, true)
        .await
        .unwrap_or_else(|| panic!("quota"));
    assert_eq!(
        (counted.decision.allowed, counted.decision.denied_hits),
        (false, 1)
    );
    let back = l
        .check("k", -1, false)
        .await
        .unwrap_or_else(|| panic!("quota"));
    assert_eq!((back.decision.remaining, back.decision.denied_hits), (0, 0));
    assert!(l
        .check("k", 1, true)
        .await
        .is_some_and(|o| !o.decision.allowed));
    assert_eq!(l.stats.redis_allowed.load(Ordering::SeqCst), 6);
    assert_eq!(l.stats.redis_denied.load(Ordering::SeqCst), 4);
    // A short window expires the key by itself.
    l.set_quota(Quota {
        window_ms: 50,
        limit: 2,
    });
    assert!(l
        .check("short", 1, false)
        .await
        .is_some_and(|o| o.decision.allowed));
    let ttl: i64 = redis::cmd("PTTL")
        .arg("t:short")
        .query_async(&mut c)
        .await
        .unwrap_or(-3);
    assert!((1..=25).contains(&ttl), "ttl {ttl}");
    assert_eq!(l.reset_all().await.0, Ok(2));
    let n: i64 = redis::cmd("DBSIZE").query_async(&mut c).await.unwrap_or(-1);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn checks_beyond_the_in_flight_bound_use_the_insurance() {
    let Some(server) = Server::for_test("checks_beyond_the_in_flight_bound_use_the_insurance")
    else {
        return;
    };
    let l = limiter(
        &server.url(),
        Insurance::Open,
        Arc::new(CountingLocal(0.into())),
    );
    l.set_quota(Quota {
        window_ms: 60_000,
        limit: 100,
    });
    // The test runtime is single-threaded: all six start before any reply arrives.
    let l = Arc::new(l);
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let l = Arc::clone(&l);
            tokio::spawn(async move { l.check("j", 1, false).await })
        })
        .collect();
    let mut all = vec![];
    for h in handles {
        all.extend(h.await.ok().flatten());
    }
    assert_eq!(all.len(), 6);
    let insured = all.iter().filter(|o| o.source == Source::Insurance).count();
    assert_eq!(insured, 4, "2 in flight at most");
    assert_eq!(l.stats.overloaded.load(Ordering::SeqCst), 4);
    assert_eq!(l.in_flight.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn large_limits_with_inexact_intervals_allow_exactly_the_limit() {
    let Some(server) =
        Server::for_test("large_limits_with_inexact_intervals_allow_exactly_the_limit")
    else {
        return;
    };
    let local = Arc::new(CountingLocal(0.into()));
    let l = Arc::new(limiter_with(
        &server.url(),
        Insurance::Closed,
        local,
        100_000,
    ));
    for (window_ms, limit) in [(3_600_000, 999), (7_000_000, 4_999), (86_400_000, 7_777)] {
        l.set_quota(Quota { window_ms, limit });
        let key = format!("big{limit}");
        // Pipelined: all checks are in flight together, as from a busy server.
        let handles: Vec<_> = (0..limit + 20)
            .map(|_| {
                let (l, key) = (Arc::clone(&l), key.clone());
                tokio::spawn(async move { l.check(&key, 1, false).await })
            })
            .collect();
        let mut allowed = 0;
        for h in handles {
            let o = h.await.ok().flatten().unwrap_or_else(|| panic!("quota"));
            assert_eq!(o.source, Source::Redis);
            allowed += u64::from(o.decision.allowed);
        }
        assert_eq!(allowed, limit, "window {window_ms} ms");
        let peek = l
            .check(&key, 0, false)
            .await
            .unwrap_or_else(|| panic!("quota"));
        assert_eq!(peek.decision.remaining, 0);
    }
}

#[tokio::test]
async fn a_refused_command_uses_the_insurance_and_is_reported_once() {
    let Some(server) =
        Server::for_test("a_refused_command_uses_the_insurance_and_is_reported_once")
    else {
        return;
    };
    let l = limiter(
        &server.url(),
        Insurance::Open,
        Arc::new(CountingLocal(0.into())),
    );
    l.set_quota(Quota {
        window_ms: 60_000,
        limit: 10,
    });
    let mut c = raw(&server.url()).await;
    let _: () = redis::cmd("LPUSH")
        .arg("t:list")
        .arg("x")
        .query_async(&mut c)
        .await
        .unwrap_or(());
    let first = l
        .check("list", 1, false)
        .await
        .unwrap_or_else(|| panic!("quota"));
    assert_eq!(first.source, Source::Insurance);
    assert!(matches!(first.event, Some(HealthEvent::Refused(_))));
    let second = l
        .check("list", 1, false)
        .await
        .unwrap_or_else(|| panic!("quota"));
    assert_eq!((second.source, second.event), (Source::Insurance, None));
    let fine = l
        .check("other", 1, false)
        .await
        .unwrap_or_else(|| panic!("quota"));
    assert_eq!(
        fine.source,
        Source::Redis,
        "not an outage: other keys still use Redis"
    );
    assert_eq!(l.conn().stats.outages.load(Ordering::SeqCst), 0);
    assert_eq!(l.conn().stats.errors.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_flushed_script_cache_costs_one_reload() {
    let Some(server) = Server::for_test("a_flushed_script_cache_costs_one_reload") else {
        return;
    };
    let l = limiter(
        &server.url(),
        Insurance::Closed,
        Arc::new(CountingLocal(0.into())),
    );
    l.set_quota(Quota {
        window_ms: 60_000,
        limit: 100,
    });
    assert!(l
        .check("a", 1, false)
        .await
        .is_some_and(|o| o.decision.allowed));
    assert_eq!(l.conn().stats.script_reloads.load(Ordering::SeqCst), 1);
    assert!(l
        .check("a", 1, false)
        .await
        .is_some_and(|o| o.decision.remaining == 98));
    assert_eq!(l.conn().stats.script_reloads.load(Ordering::SeqCst), 1);
    let mut c = raw(&server.url()).await;
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut c)
        .await
        .unwrap_or(());
    let o = l
        .check("a", 1, false)
        .await
        .unwrap_or_else(|| panic!("quota"));
    assert_eq!((o.source, o.decision.remaining), (Source::Redis, 97));
    assert_eq!(l.conn().stats.script_reloads.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unreachable_redis_engages_the_insurance_once() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(1);
    let url = format!("redis://127.0.0.1:{port}/");
    let local = Arc::new(CountingLocal(0.into()));
    let quota = Quota {
        window_ms: 1000,
        limit: 3,
    };
    for (insurance, allowed) in [(Insurance::Open, true), (Insurance::Closed, false)] {
        let l = limiter(&url, insurance, Arc::clone(&local));
        l.set_quota(quota);
        let first = l
            .check("x", 1, false)
            .await
            .unwrap_or_else(|| panic!("quota"));
        assert_eq!(first.source, Source::Insurance);
        assert_eq!(first.decision.allowed, allowed);
        assert!(matches!(first.event, Some(HealthEvent::Down(_))));
        for _ in 0..3 {
            let o = l
                .check("x", 1, false)
                .await
                .unwrap_or_else(|| panic!("quota"));
            assert_eq!((o.source, o.event), (Source::Insurance, None));
        }
        assert_eq!(l.conn().stats.outages.load(Ordering::SeqCst), 1);
        assert_eq!(l.conn().stats.skipped.load(Ordering::SeqCst), 3);
    }
    assert_eq!(local.0.load(Ordering::SeqCst), 0);
    let l = limiter(&url, Insurance::Local, Arc::clone(&local));
    l.set_quota(quota);
    let o = l
        .check("x", 1, false)
        .await
        .unwrap_or_else(|| panic!("quota"));
    assert_eq!(o.decision.retry_after_ms, 7, "the local limiter decided");
    assert_eq!(local.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn two_caches_compute_a_shared_value_once() {
    let Some(server) = Server::for_test("two_caches_compute_a_shared_value_once") else {
        return;
    };
    let opts = ConnOptions {
        url: server.url(),
        timeout_ms: 500,
        probe_interval_ms: 100,
        cluster: false,
    };
    let a = SharedCache::new(&opts, "c:", fake()).unwrap_or_else(|e| panic!("{e}"));
    let b = SharedCache::new(&opts, "c:", fake()).unwrap_or_else(|e| panic!("{e}"));
    let calls = AtomicUsize::new(0);
    let compute = || async {
        calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        Some("advice".to_owned())
    };
    let (mut ea, mut eb) = (vec![], vec![]);
    let (ra, rb) = tokio::join!(
        a.get_or_compute("sig", 60_000, 5_000, 5, compute, &mut ea),
        b.get_or_compute("sig", 60_000, 5_000, 5, compute, &mut eb),
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let mut got = [ra, rb];
    got.sort_by_key(|r| matches!(r, Some(Shared::Hit(_))));
    assert_eq!(
        got,
        [
            Some(Shared::Computed("advice".into())),
            Some(Shared::Hit("advice".into()))
        ]
    );
    let (held, _) = a.is_claimed("sig").await;
    assert_eq!(held, Some(false), "the marker is released");
    assert!(ea.is_empty() && eb.is_empty());
}
