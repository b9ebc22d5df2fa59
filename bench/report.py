#!/usr/bin/env python3
"""Turns bench/run's figures (label.key=value lines) into the generated part
of BENCHMARKS.md: the machine, the date, the commands, each figure next to
its baseline of the same run, the ratio and the goal. Text between the
markers is replaced; everything else in the file (the hand-written analysis)
is kept."""
import argparse
import json
import os
import re
import subprocess

BEGIN = "<!-- bench/run: begin (generated, do not edit by hand) -->"
END = "<!-- bench/run: end -->"


def read_results(path):
    figures, commands = {}, []
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("cmd="):
            commands.append(line[4:])
        elif "=" in line:
            k, v = line.split("=", 1)
            try:
                figures[k] = float(v)
            except ValueError:
                figures[k] = v
    return figures, commands


def machine():
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    info = dict(re.findall(r"^([^:]+):\s+(.*)$", lscpu, re.M))
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read())[1])
    return (f"`{info.get('Model name', '?')}`, {info.get('CPU(s)', '?')} CPUs "
            f"({info.get('Core(s) per socket', '?')} cores per socket x "
            f"{info.get('Socket(s)', '?')} sockets, "
            f"{info.get('Thread(s) per core', '?')} threads per core), "
            f"{mem_kb / 1024 / 1024:.1f} GiB memory, "
            f"kernel {os.uname().release}")


def num(x, digits=3):
    if x is None or x == "":
        return "n/a"
    if isinstance(x, str):
        return x
    if abs(x) >= 1e6:
        return f"{x / 1e6:.2f} M"
    if abs(x) >= 1e4:
        return f"{x / 1e3:.1f} k"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def ratio(a, b):
    if a is None or b in (None, 0) or isinstance(a, str) or isinstance(b, str):
        return None
    return a / b


def verdict(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def codec_rows(path):
    if not path or not os.path.exists(path):
        return {}
    data = json.load(open(path))
    rows = {}
    for b in data.get("benchmarks", []):
        name = re.sub(r"/min_time:[^/]*$", "", b.get("run_name", b["name"]))
        name = re.sub(r"(kind|check):", "", name)
        rows[name] = b.get("items_per_second")
    return rows


def issue14_figures(g):
    """Issue 14's goals from cluster_bench's figures (None where not run)."""
    x5 = g("c5.datagrams.excess_per_registration")
    x20 = g("c20.datagrams.excess_per_registration")
    x_ratio = ratio(x20, x5)
    share = g("c20.loaded.load.acked_share")
    p99 = g("c20.loaded.visible_p99_ms")
    if p99 is not None and (g("c20.loaded.missed") or 0) > 0:
        p99 = float("inf")
    cold_p99 = g("c5.scale.cold_p99_ms")
    cold_all_exact = (g("c5.scale.cold_samples") is not None and
                      g("c5.scale.cold_exact") == g("c5.scale.cold_samples"))
    mem = g("c20.memory.rss_growth_mean_mb")
    return {
        "x5": x5, "x20": x20, "x_ratio": x_ratio,
        "x_ok": None if x20 is None or x5 is None else (x_ratio is not None
                                                         and x_ratio <= 1.5 and x20 <= 45),
        "share": share, "p99": p99,
        "loaded_ok": None if share is None or p99 is None else share >= 0.95 and p99 <= 250,
        "cold_p99": cold_p99,
        "cold_ok": None if cold_p99 is None else cold_all_exact and cold_p99 <= 50,
        "mem": mem,
        "mem_ok": None if mem is None else mem <= 24,
    }


def issue14_summary(g):
    f = issue14_figures(g)
    fwd = g("c5.forward.node.answers_per_sec")
    echo = g("c5.forward.echo.answers_per_sec")
    p99 = f["p99"]
    p99_text = ("never (%s of %s probes not seen in 10 s)"
                % (num(g("c20.loaded.missed")), num(g("c20.loaded.probes")))
                if p99 == float("inf") else num(p99))
    return [
        f"| 14.1 | datagrams per acknowledged registration, id every node was asked about "
        f"less id nobody asked about: 20 nodes (baseline: 5 nodes) | {num(f['x20'])} | "
        f"{num(f['x5'])} | {num(f['x_ratio'])} | <= 1.5 x 5 nodes and <= 45 | "
        f"{verdict(f['x_ok'])} |",
        f"| 14.2 | 20 nodes, 1,000 registrations/s offered: acknowledged share; "
        f"register -> visible p99 ms | {num(f['share'])}; {p99_text} | | | "
        f">= 0.95 and p99 <= 250 ms | {verdict(f['loaded_ok'])} |",
        f"| 14.3 | {num(g('c5.scale.register.offers_ok'))} offers of one id, 5 nodes: first "
        f"query at each node never asked ({num(g('c5.scale.cold_exact'))} of "
        f"{num(g('c5.scale.cold_samples'))} exact), p99 ms | {num(f['cold_p99'])} | | | "
        f"<= 50 ms, every one exact | {verdict(f['cold_ok'])} |",
        f"| 14.4 | 20 nodes, every node asked about {num(g('c20.memory.ids'))} ids: mean VmRSS "
        f"growth per node, MB | {num(f['mem'])} | | | <= 24 MB | {verdict(f['mem_ok'])} |",
        f"| 14.6 | forwarded queries (a node that does not aggregate the id), 5 nodes: answers/s "
        f"at {num(g('c5.forward.node.window'))} in flight ({num(g('c5.forward.node.not_ok'))} "
        f"answered not OK); p50 / p99 us at {num(g('c5.forward.node_paced.rate'))}/s | "
        f"{num(fwd)}; {num(g('c5.forward.node_paced.p50_us'))} / "
        f"{num(g('c5.forward.node_paced.p99_us'))} | echo server in "
        f"the same namespace {num(echo)} | {num(ratio(fwd, echo))} | reported | |",
    ]


def issue14_section(g, w):
    """Issue 14 ("Internet scale"): the cluster figures of its goals."""
    if all(g(f"c{n}.{k}") is None for n in (5, 20)
           for k in ("datagrams.registrations", "memory.ids", "forward.aggregators",
                     "scale.cold_samples")):
        return
    f = issue14_figures(g)
    w("### Issue 14: Internet scale (clusters)")
    w("")
    w("**1. Datagrams per acknowledged registration** (UDP in + out of every node "
      "namespace, `/proc/PID/net/snmp` and `snmp6`; paced one-entry registrations "
      "round robin over the nodes; counted over a window of the same length for both ids, "
      "from the first send to a settle after the paced sending time):")
    w("")
    w("| nodes | registrations OK of | rate/s | aggregators | id nobody asked | "
      "id every node asked | excess | idle upkeep, datagrams/s | windows s | "
      "dropped on receipt |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for n in (5, 20):
        k = f"c{n}.datagrams"
        if g(k + ".registrations") is None:
            continue
        w(f"| {n} | {num(g(k + '.never_asked.offers_ok'))} + {num(g(k + '.asked.offers_ok'))} "
          f"of 2 x {num(g(k + '.registrations'))} | {num(g(k + '.rate'))} | "
          f"{num(g(k + '.aggregators'))}"
          + (f" ({num(g(k + '.nodes_not_ok'))} nodes never answered OK)"
             if g(k + ".nodes_not_ok") else "")
          + f" | {num(g(k + '.never_asked.per_registration'))} | "
          f"{num(g(k + '.asked.per_registration'))} | "
          f"**{num(g(k + '.excess_per_registration'))}** | {num(g(k + '.idle_per_sec'))} | "
          f"{num(g(k + '.never_asked.window_seconds'))}; "
          f"{num(g(k + '.asked.window_seconds'))} | "
          f"{num(g(k + '.never_asked.datagrams_dropped'))}; "
          f"{num(g(k + '.asked.datagrams_dropped'))} |")
    w("")
    w(f"Goal: the excess at 20 nodes <= 1.5 x the one at 5 nodes and <= 45 datagrams "
      f"(before aggregators: 31.5 and 129). 20 / 5 = {num(f['x_ratio'])}: "
      f"{verdict(f['x_ok'])}.")
    w("")
    share = f["share"]
    w(f"**2. 20 nodes loaded** (1,000 one-offer registrations/s offered while the probes "
      f"run; section 4): {num(g('c20.loaded.load.offers_ok'))} acknowledged OK of "
      f"{num(g('c20.loaded.load.offered'))} offered (share {num(share)}), "
      f"register -> visible p99 {num(g('c20.loaded.visible_p99_ms'))} ms "
      f"({num(g('c20.loaded.missed'))} of {num(g('c20.loaded.probes'))} probes not seen in "
      f"10 s). Goal: >= 0.95 acknowledged and p99 <= 250 ms: {verdict(f['loaded_ok'])}.")
    w("")
    if g("c5.scale.cold_samples") is not None:
        w(f"**3. Cold query** ({num(g('c5.scale.register.offers_ok'))} offers of one id, "
          "5 nodes). The first query of the id anywhere (node 5) finds no aggregator "
          f"and reads directly: {num(g('c5.scale.cold_ms'))} ms, total "
          f"{num(g('c5.scale.cold_total'))}, status {num(g('c5.scale.cold_status'))}; "
          f"its demand elects {num(g('c5.scale.aggregators'))} aggregators. Once they are "
          "warm, the first query at each other node (never asked about the id):")
        w("")
        w("| node | aggregates the id | first query ms | OK, exact total |")
        w("|---:|---|---:|---|")
        for k in range(1, 21):
            key = f"c5.scale.cold.node{k}"
            if g(key + "_ms") is None:
                continue
            w(f"| {k} | {'yes' if g(key + '_aggregator') == 1 else 'no'} | "
              f"{num(g(key + '_ms'))} | {'yes' if g(key + '_exact') == 1 else '**no**'} |")
        w("")
        w(f"p50 / p99 of these samples {num(g('c5.scale.cold_p50_ms'))} / "
          f"{num(f['cold_p99'])} ms (an answer not exact counts as 10 s); the slowest at a node "
          f"that forwards {num(g('c5.scale.cold_max_forwarding_ms'))} ms. Goal: p99 <= 50 ms, "
          f"exact: {verdict(f['cold_ok'])}. The queries that follow at the "
          f"{num(g('c5.scale.forwarded_nodes'))} nodes that do not aggregate the id, one at a "
          f"time: {num(g('c5.scale.forwarded_exact'))} of {num(g('c5.scale.forwarded_queries'))} "
          f"OK and exact, p50 {num(g('c5.scale.forwarded_p50_ms'))} ms, p99 "
          f"{num(g('c5.scale.forwarded_p99_ms'))} ms.")
        w("")
    for n in (20, 5):
        k = f"c{n}.memory"
        if g(k + ".ids") is None:
            continue
        judged = n == 20
        w(f"**4. Memory** ({n} nodes): every node asked about the same {num(g(k + '.ids'))} ids "
          f"({num(g(k + '.offers_per_id'))} offers each) until it answered each exactly "
          f"({num(g(k + '.pairs_not_exact'))} (node, id) pairs never did, in "
          f"{num(g(k + '.asked_seconds'))} s); VmRSS of every node before the first query "
          f"and {num(g(k + '.settle_seconds'))} s after the ids' aggregators were warm: "
          f"mean {num(g(k + '.rss_before_mean_mb'))} MB before, growth mean "
          f"**{num(g(k + '.rss_growth_mean_mb'))} MB**, max {num(g(k + '.rss_growth_max_mb'))} MB "
          f"per node; ids aggregated per node {num(g(k + '.aggregated_ids_per_node'))} on average. "
          + (f"Goal: mean growth <= 24 MB: {verdict(f['mem_ok'])}." if judged
             else "(The goal is at 20 nodes.)"))
        w("")
        by_count = {}  # ids aggregated -> growths of the nodes aggregating that many
        for node in range(2, n + 1):
            grown = g(f"{k}.node{node}.rss_growth_mb")
            count = g(f"{k}.node{node}.aggregated_ids")
            if grown is not None and count is not None:
                by_count.setdefault(int(count), []).append(grown)
        if by_count:
            w("Growth per node by the number of ids it aggregated at the end, nodes 2-"
              f"{n}: " + "; ".join(
                  f"{c} ids, {num(sum(v) / len(v))} MB mean over {len(v)} node(s)"
                  for c, v in sorted(by_count.items())) +
              f". Node 1, asked each id first (a direct read of each), aggregating "
              f"{num(g(k + '.node1.aggregated_ids'))}: {num(g(k + '.node1.rss_growth_mb'))} MB.")
            w("")
    if g("c5.forward.aggregators") is not None:
        w("**6. Forwarded queries** (5 nodes, an id of "
          f"{num(g('c5.forward.register.offers_ok'))} offers, every node asked first; "
          f"{num(g('c5.forward.aggregators'))} aggregators). Closed loop, "
          f"{num(g('c5.forward.node.window'))} queries in flight, and open loop at a rate under "
          "the aggregator's budget for one peer; page of 10, from the client namespace:")
        w("")
        if g("c5.forward.skipped"):
            w("Skipped: no node to forward from, or no aggregator to forward to.")
            w("")
        else:
            w("| server | load | answers/s (status OK) | p50 us | p99 us | answered, not OK | lost |")
            w("|---|---|---:|---:|---:|---:|---:|")
            fwd_node = (f"node {num(g('c5.forward.forwarding_node'))}, does not aggregate "
                        "the id (forwards each query)")
            for phase, what in (("node_paced", fwd_node),
                                ("node", fwd_node),
                                ("aggregator", f"node {num(g('c5.forward.aggregator_node'))}, "
                                 "an aggregator (its index)"),
                                ("echo", "echo server in the forwarding node's namespace, "
                                 f"{num(g('c5.forward.answer_bytes'))}-byte answers")):
                k = f"c5.forward.{phase}"
                if g(k + ".answers_per_sec") is None:
                    continue
                load = (f"{num(g(k + '.rate'))}/s offered" if g(k + ".rate") is not None
                        else f"{num(g(k + '.window'))} in flight")
                w(f"| {what} | {load} | {num(g(k + '.answers_per_sec'))} | "
                  f"{num(g(k + '.p50_us'))} | {num(g(k + '.p99_us'))} | "
                  f"{num(g(k + '.not_ok'))} | {num(g(k + '.lost'))} |")
            w("")
            w("One-at-a-time queries at the forwarding node, OK with the exact total, of 20: "
              f"before the loads {num(g('c5.forward.node.exact_of_20_before'))}, after the "
              f"paced one {num(g('c5.forward.node.exact_of_20_after_paced'))}, after the "
              f"closed loop {num(g('c5.forward.node.exact_of_20_after_closed'))}. "
              "An aggregator answers a forwarding node within a budget per peer address "
              "(4 MiB/s, burst 8 MiB: ~5,600 answers of 748 bytes a second) and answers "
              "RATE_LIMITED past it; the forwarder then asks the next aggregator, and with "
              "every one busy answers the buyer RATE_LIMITED, so a closed loop faster than "
              "the budget ends in those (answered, not OK). "
              f"Forwarded / echo: {num(ratio(g('c5.forward.node.answers_per_sec'), g('c5.forward.echo.answers_per_sec')))}; "
              f"forwarded / aggregator: {num(ratio(g('c5.forward.node.answers_per_sec'), g('c5.forward.aggregator.answers_per_sec')))}. "
              "The nodes are not pinned here (they share both CPUs with the client), unlike "
              "section 2's one node.")
            w("")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--codec")
    ap.add_argument("--profiles")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    f, commands = read_results(args.results)
    g = f.get
    codec = codec_rows(args.codec)
    out = []
    w = out.append

    def profile(name):
        """The lines of the run's profile-NAME.txt; empty when it has none."""
        path = os.path.join(args.profiles or "", f"profile-{name}.txt")
        if not args.profiles or not os.path.exists(path):
            return []
        return [line.rstrip() for line in open(path)]

    def code_block(lines):
        w("```")
        for line in lines:
            w(line)
        w("```")
        w("")
    quick = g("note.run.quick") == 1
    w(BEGIN)
    w("")
    w("## Results of `bench/run`" + (" --quick (small sizes, not judged)" if quick else ""))
    w("")
    w(f"- Machine: {machine()}.")
    w(f"- Date: {g('note.run.date')}; the run took {num(g('note.run.seconds'))} s; "
      f"code of commit {g('note.run.commit') or 'n/a'}.")
    w(f"- Load average (1, 5, 15 min) before: {g('note.run.load_before')}, after: "
      f"{g('note.run.load_after')}. The machine's 2 cores are shared with other "
      "engineers' builds and tests, so absolute figures are noisy; ratios are "
      "taken within one run and hold better.")
    w("- Pinning: the server under test (crsp-node, echo server, Redis, etcd) on CPU 0, "
      "the load generator on CPU 1 (`taskset`/`sched_setaffinity`).")
    w("")

    # Summary.
    crsp_q = g("crsp.query.peak_answers_per_sec")
    echo_q = g("echo.query.peak_answers_per_sec")
    etcd_page = g("etcd.query_page.answers_per_sec")
    etcd_full = g("etcd.query_full.answers_per_sec")
    etcd_grpc_page = g("etcd_grpc.query_page.peak_answers_per_sec")
    etcd_grpc_full = g("etcd_grpc.query_full.peak_answers_per_sec")
    etcd_methods = {"JSON gateway, page of 10": etcd_page,
                    "JSON gateway, whole prefix": etcd_full,
                    "gRPC, page of 10 + count": etcd_grpc_page,
                    "gRPC, whole prefix": etcd_grpc_full}
    etcd_best_method = max((m for m, x in etcd_methods.items() if isinstance(x, float)),
                           key=lambda m: etcd_methods[m], default=None)
    etcd_best = etcd_methods.get(etcd_best_method)
    crsp_reg = g("crsp.register.offers_per_sec")
    etcd_reg = g("etcd.register.offers_per_sec")
    redis_q = g("redis.query.peak_answers_per_sec")
    redis_q_pipe = g("redis.query_pipelined.peak_answers_per_sec")
    redis_reg_always = g("redis.register_always.offers_per_sec")
    redis_reg_everysec = g("redis.register_everysec.offers_per_sec")
    r_redis_q = ratio(crsp_q, redis_q)
    r_redis_r = ratio(crsp_reg, redis_reg_always)
    mem_per_offer = None
    if g("note.mem.rss_full_kb") and g("note.mem.offers"):
        mem_per_offer = (g("note.mem.rss_full_kb") - g("note.mem.rss_empty_kb")) \
            * 1024 / g("note.mem.offers")
    reg_decode = codec.get("BM_Decode/2/5")
    r_echo = ratio(crsp_q, echo_q)
    r_etcd_q = ratio(crsp_q, etcd_best)
    r_etcd_r = ratio(crsp_reg, etcd_reg)
    w("### Summary")
    w("")
    w("| # | figure | measured | baseline (same run) | ratio | goal | |")
    w("|---|---|---:|---:|---:|---|---|")
    w(f"| 1 | register decode + CRC-32, packets/s, one core | {num(reg_decode)} | | | >= 5 M/s | "
      f"{verdict(None if reg_decode is None else reg_decode >= 5e6)} |")
    w(f"| 2 | edge queries (10 results), answers/s, peak | {num(crsp_q)} | echo server {num(echo_q)} | "
      f"{num(r_echo)} | >= 0.85 x echo | {verdict(None if r_echo is None else r_echo >= 0.85)} |")
    w(f"| 3 | queries/s vs etcd (best of its methods: {etcd_best_method or 'n/a'}) | {num(crsp_q)} | "
      f"etcd {num(etcd_best)} | {num(r_etcd_q)} | >= 10 x etcd | "
      f"{verdict(None if r_etcd_q is None else r_etcd_q >= 10)} |")
    w(f"| 3 | durable registrations (offers)/s, one node vs etcd (txn of 4 puts) | {num(crsp_reg)} | etcd {num(etcd_reg)} | "
      f"{num(r_etcd_r)} | >= 1 x etcd | {verdict(None if r_etcd_r is None else r_etcd_r >= 1)} |")
    w(f"| 7 | edge queries/s vs Redis (ZRANGEBYSCORE + ZCOUNT), best window of 4/16/64 in flight each | "
      f"{num(crsp_q)} (w{num(g('crsp.query.peak_window'))}) | Redis {num(redis_q)} "
      f"(w{num(g('redis.query.peak_window'))}) | {num(r_redis_q)} | >= 1.0 x Redis | "
      f"{verdict(None if r_redis_q is None else r_redis_q >= 1.0)} |")
    w(f"| 7 | durable registrations (offers)/s, one node vs Redis `appendfsync always` (MULTI/ZADD/EXEC) | "
      f"{num(crsp_reg)} | Redis {num(redis_reg_always)} | {num(r_redis_r)} | >= 1.0 x Redis | "
      f"{verdict(None if r_redis_r is None else r_redis_r >= 1.0)} |")
    for n in (5, 20):
        for phase, goal in (("idle", 50), ("loaded", 250)):
            p99 = g(f"c{n}.{phase}.visible_p99_ms")
            if p99 is None:
                continue
            judged = goal if n == 20 else None
            missed = g(f"c{n}.{phase}.missed") or 0
            if missed:
                p99 = float("inf")
            w(f"| 4 | {n} nodes, {phase}: register -> visible elsewhere, p50 / p99 ms | "
              f"{num(g(f'c{n}.{phase}.visible_p50_ms'))} / "
              f"{num(p99) if p99 != float('inf') else 'never (%d of %d probes not seen in 10 s)' % (missed, g(f'c{n}.{phase}.probes'))} | | | "
              f"{'p99 <= %d ms at 20 nodes' % goal if judged else '(goal is at 20 nodes)'} | "
              f"{verdict(p99 <= judged) if judged else ''} |")
    dur = g("c5.durable.offers_per_sec")
    w(f"| 4 | durable registrations (offers)/s across 5 nodes | {num(dur)} | | | >= 2,000/s | "
      f"{verdict(None if dur is None else dur >= 2000)} |")
    w(f"| 5 | resident memory per stored offer ({num(g('note.mem.offers'))} offers), bytes | "
      f"{num(mem_per_offer)} | | | <= 1.5 KB | "
      f"{verdict(None if mem_per_offer is None else mem_per_offer <= 1536)} |")
    wp99 = g("c5.scale.warm_p99_us")
    w(f"| 6 | {num(g('c5.scale.register.offers_ok'))} offers of one resource id, 5 nodes: "
      f"cold query ms; warm p50 / p99 us | {num(g('c5.scale.cold_ms'))}; "
      f"{num(g('c5.scale.warm_p50_us'))} / {num(wp99)} | | | warm p99 < 1 ms | "
      f"{verdict(None if wp99 is None else wp99 < 1000)} |")
    for row in issue14_summary(g):
        w(row)
    w("")
    w("Informational, same run: Redis with its default `appendfsync everysec` "
      f"(up to a second of acknowledged writes lost on a crash) took {num(redis_reg_everysec)} offers/s "
      f"(CRSP / that: {num(ratio(crsp_reg, redis_reg_everysec))}); Redis pipelined 256 queries at a time "
      f"(4 x the deepest CRSP window) {num(redis_q_pipe)} queries/s "
      f"(CRSP / that: {num(ratio(crsp_q, redis_q_pipe))}); etcd's own write load "
      f"(`etcdctl check perf --load=xl`, gRPC, 1,000 clients, one 1 KiB put each) "
      f"{num(g('note.etcd.check_perf.writes_per_sec'))} puts/s beside the gateway's "
      f"{num(ratio(etcd_reg, 4))} txns/s of 4 puts.")
    w("")
    w("What each alternative does not do that CRSP does:")
    w("")
    w("- **Redis**: no serverless replication (one primary holds every offer; "
      "replicas and failover are servers an operator runs); the exact total is "
      "exact because it is one server, not over a DHT; no signed offers (any "
      "client that can write may write any member); expiry is a trim job, so "
      "a query can return an offer up to a trim interval (1 s here) past its "
      "`valid until`.")
    w("- **etcd**: no serverless replication (a Raft group of 3-5 servers, "
      "every write through the leader and a quorum); `count` is exact within "
      "that one group, not over a DHT; no signed offers (authorization is per "
      "user and key range, not per device); expiry through leases.")
    w("")

    # 1. Codec
    w("### 1. Codec (`codec_bench`, this run)")
    w("")
    names = ["ping request", "ping answer", "register request (2 entries)",
             "register answer (2)", "withdraw request (1 id)", "withdraw answer (1)",
             "query request (2 entries)", "query answer (15 offers)"]
    for op in ("Decode", "Encode"):
        w(f"{op} (+ verify / + check), packets/s of one core, by check type 0..7:")
        w("")
        w("| packet | " + " | ".join(str(c) for c in range(8)) + " |")
        w("|---|" + "---:|" * 8)
        for k, name in enumerate(names):
            cells = [num(codec.get(f"BM_{op}/{k}/{c}")) for c in range(8)]
            w(f"| {name} | " + " | ".join(cells) + " |")
        w("")

    # 2. Edge
    w("### 2. Edge query throughput: one warm node vs the echo server")
    w("")
    w("| server | window | answers/s | p50 us | p99 us | lost |")
    w("|---|---:|---:|---:|---:|---:|")
    for who in ("crsp", "echo"):
        for win in ("4", "16", "64"):
            k = f"{who}.query.w{win}"
            if g(k + ".answers_per_sec") is None:
                continue
            w(f"| {who} | {win} | {num(g(k + '.answers_per_sec'))} | {num(g(k + '.p50_us'))} | "
              f"{num(g(k + '.p99_us'))} | {num(g(k + '.lost'))} |")
    w("")
    w("At 50% of each server's own peak (open loop, up to 1,024 in flight):")
    w("")
    w("| server | rate/s | answers/s | p50 us | p99 us | p99.9 us | lost |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    for who in ("crsp", "echo"):
        k = f"{who}.query.half"
        w(f"| {who} | {num(g(k + '.rate'))} | {num(g(k + '.answers_per_sec'))} | "
          f"{num(g(k + '.p50_us'))} | {num(g(k + '.p99_us'))} | {num(g(k + '.p999_us'))} | "
          f"{num(g(k + '.lost'))} |")
    w("")
    w(f"Answer size {num(g('crsp.query.answer_bytes'))} bytes (10 offers, CRC-32), "
      "the echo server answers the same size. Registration of the offers at the node: "
      f"{num(crsp_reg)} offers/s ({num(g('crsp.register.requests_per_sec'))} requests of 4 "
      f"entries/s, 64 in flight, ack p50 {num(g('crsp.register.ack_p50_ms'))} ms, "
      f"p99 {num(g('crsp.register.ack_p99_ms'))} ms).")
    w("")

    # 3. etcd
    w("### 3. The same job on etcd")
    w("")
    if g("note.etcd.skipped"):
        w("Skipped in this run (etcd or libcurl could not be installed).")
    else:
        w(f"etcd {g('note.etcd.version')} (Debian), one member on loopback, data dir on the "
          "same disk as the node's state.")
        w("")
        w("| job | CRSP | etcd | CRSP / etcd |")
        w("|---|---:|---:|---:|")
        w(f"| durable offers/s (4 per request / txn, 64 in flight) | {num(crsp_reg)} | "
          f"{num(etcd_reg)} | {num(r_etcd_r)} |")
        w(f"| register ack p50 / p99 ms | {num(g('crsp.register.ack_p50_ms'))} / "
          f"{num(g('crsp.register.ack_p99_ms'))} | {num(g('etcd.register.ack_p50_ms'))} / "
          f"{num(g('etcd.register.ack_p99_ms'))} | |")
        w(f"| queries/s, etcd reads one page of 10 keys (best shot) | {num(crsp_q)} | "
          f"{num(etcd_page)} | {num(ratio(crsp_q, etcd_page))} |")
        w(f"| queries/s, etcd reads the whole prefix (the issue's method; gives the total) | "
          f"{num(crsp_q)} | {num(etcd_full)} | {num(ratio(crsp_q, etcd_full))} |")
        w(f"| etcd query p50 / p99 us (page; whole prefix), 16 in flight | | "
          f"{num(g('etcd.query_page.p50_us'))} / {num(g('etcd.query_page.p99_us'))}; "
          f"{num(g('etcd.query_full.p50_us'))} / {num(g('etcd.query_full.p99_us'))} | |")
        w(f"| queries/s, gRPC range read of 10 keys (+ exact `count`), best of 4/16/64 in flight "
          f"(w{num(g('etcd_grpc.query_page.peak_window'))}) | {num(crsp_q)} | {num(etcd_grpc_page)} | "
          f"{num(ratio(crsp_q, etcd_grpc_page))} |")
        w(f"| queries/s, gRPC range read of the whole prefix, 16 in flight | {num(crsp_q)} | "
          f"{num(etcd_grpc_full)} | {num(ratio(crsp_q, etcd_grpc_full))} |")
        w(f"| writes: `etcdctl check perf --load=xl` (gRPC, 1,000 clients, 1 KiB puts), puts/s; "
          f"slowest s | | {num(g('note.etcd.check_perf.writes_per_sec'))}; "
          f"{num(g('note.etcd.check_perf.slowest_s'))} | |")
        w("")
        w("gRPC range reads (page of 10) by requests in flight, one HTTP/2 channel:")
        w("")
        w("| in flight | CRSP answers/s | etcd gRPC answers/s | p50 us | p99 us |")
        w("|---:|---:|---:|---:|---:|")
        for win in ("4", "16", "64"):
            k = f"etcd_grpc.query_page.w{win}"
            if g(k + ".answers_per_sec") is None:
                continue
            w(f"| {win} | {num(g(f'crsp.query.w{win}.answers_per_sec'))} | "
              f"{num(g(k + '.answers_per_sec'))} | {num(g(k + '.p50_us'))} | {num(g(k + '.p99_us'))} |")
    w("")

    lines = profile("etcd_grpc_query")
    if lines:
        w("Profile of etcd during its gRPC range reads (page of 10, 64 in flight): "
          "`perf record -e cpu-clock -g`, self time by library and symbol:")
        w("")
        code_block(lines)

    # 7. Redis
    w("### 7. The same job on Redis")
    w("")
    if g("note.redis.skipped") or redis_q is None:
        w("Skipped in this run (redis-server or hiredis could not be installed).")
    else:
        w(f"Redis {g('note.redis.version')} (Debian), one server on 127.0.0.1, pinned to CPU 0, "
          "AOF in a directory on the same disk as the node's state, RDB snapshots off. "
          "`redis_bench` (hiredis) on CPU 1, one connection.")
        w("")
        w("| job | CRSP | Redis | CRSP / Redis |")
        w("|---|---:|---:|---:|")
        w(f"| durable offers/s, `appendfsync always` (MULTI, 8 ZADD, EXEC per device; 64 in flight) | "
          f"{num(crsp_reg)} | {num(redis_reg_always)} | {num(r_redis_r)} |")
        w(f"| register ack p50 / p99 ms, `always` | {num(g('crsp.register.ack_p50_ms'))} / "
          f"{num(g('crsp.register.ack_p99_ms'))} | {num(g('redis.register_always.ack_p50_ms'))} / "
          f"{num(g('redis.register_always.ack_p99_ms'))} | |")
        w(f"| offers/s, `appendfsync everysec` (Redis' default; not durable per ack) | {num(crsp_reg)} | "
          f"{num(redis_reg_everysec)} | {num(ratio(crsp_reg, redis_reg_everysec))} |")
        w(f"| register ack p50 / p99 ms, `everysec` | | {num(g('redis.register_everysec.ack_p50_ms'))} / "
          f"{num(g('redis.register_everysec.ack_p99_ms'))} | |")
        for win in ("4", "16", "64"):
            k = f"redis.query.w{win}"
            if g(k + ".answers_per_sec") is None:
                continue
            c = f"crsp.query.w{win}"
            w(f"| queries/s, {win} in flight (ZRANGEBYSCORE LIMIT 0 10 + ZCOUNT); p50 / p99 us | "
              f"{num(g(c + '.answers_per_sec'))}; {num(g(c + '.p50_us'))} / {num(g(c + '.p99_us'))} | "
              f"{num(g(k + '.answers_per_sec'))}; {num(g(k + '.p50_us'))} / {num(g(k + '.p99_us'))} | "
              f"{num(ratio(g(c + '.answers_per_sec'), g(k + '.answers_per_sec')))} |")
        w(f"| queries/s, pipelined: 256 queries written at once, all answers read, again | {num(crsp_q)} (peak) | "
          f"{num(redis_q_pipe)} | {num(ratio(crsp_q, redis_q_pipe))} |")
        w("")
        lines = profile("redis_query")
        if lines:
            w("Profile of redis-server during its query load (16 in flight): "
              "`perf record -e cpu-clock -g`, self time by library and symbol:")
            w("")
            code_block(lines)
    w("")

    # 4 and 6. Clusters
    w("### 4. Clusters (namespace harness, one host per node)")
    w("")
    w("| nodes | phase | probes | missed | visible p50 ms | p99 ms | max ms | register ack p50 / p99 ms | load achieved offers/s |")
    w("|---:|---|---:|---:|---:|---:|---:|---|---:|")
    for n in (5, 20):
        for phase in ("idle", "loaded"):
            k = f"c{n}.{phase}"
            if g(k + ".probes") is None:
                continue
            load = g(k + ".load.offers_per_sec") if phase == "loaded" else None
            w(f"| {n} | {phase} | {num(g(k + '.probes'))} | {num(g(k + '.missed'))} | "
              f"{num(g(k + '.visible_p50_ms'))} | {num(g(k + '.visible_p99_ms'))} | "
              f"{num(g(k + '.visible_max_ms'))} | {num(g(k + '.ack_p50_ms'))} / "
              f"{num(g(k + '.ack_p99_ms'))} | {num(load) if load else ''} |")
    w("")
    for n in (5, 20):
        k = f"c{n}.idle"
        if g(k + ".quiet_after_s") is None:
            continue
        w(f"{n} nodes: busy share of both CPUs in the second after warming every node "
          f"{num(g(k + '.busy_after_warming'))}; the idle probes started "
          f"{num(g(k + '.quiet_after_s'))} s after that second began, the last second's busy share "
          f"{num(g(k + '.busy_at_start'))} (wait: under 0.10 for 2 s, at most "
          f"--quiet-max-seconds).")
        w("")
    w(f"Separate hosts (namespaces): {'yes' if g('c5.separate_hosts') == 1 else 'no (loopback fallback)'}. "
      f"Durable registrations across 5 nodes: {num(dur)} offers/s "
      f"({num(g('c5.durable.offers_ok'))} offers OK, {num(g('c5.durable.offers_failed'))} failed, "
      f"{num(g('c5.durable.unanswered'))} unanswered; ack p50 {num(g('c5.durable.ack_p50_ms'))} ms, "
      f"p99 {num(g('c5.durable.ack_p99_ms'))} ms).")
    w("")
    views = [(what, profile(name))
             for name, what in (("c20_loaded_comm", "by process and library"),
                                ("c20_loaded", "by library and symbol"))]
    views = [(what, lines) for what, lines in views if lines]
    if views:
        w("Profile of the whole machine (both CPUs: 20 nodes and the load "
          "generator) over the 20-node loaded phase, at most its first 60 s: "
          "`perf record -a -e cpu-clock -F 499`, self time:")
        w("")
    for what, lines in views:
        w(f"{what.capitalize()}:")
        w("")
        code_block(lines)
    w("### 5. Memory")
    w("")
    if mem_per_offer is not None:
        w(f"VmRSS of the node with its 4 resource ids warm and no offers: "
          f"{num(g('note.mem.rss_empty_kb'))} kB; holding {num(g('note.mem.offers'))} offers: "
          f"{num(g('note.mem.rss_full_kb'))} kB; **{num(mem_per_offer)} bytes per offer**.")
    w("")
    w("### 6. One resource id at scale (5 nodes)")
    w("")
    warm_at = g("c5.scale.warm_node")
    warm_where = ("" if warm_at is None else
                  f" at node {num(warm_at)}" + (", an aggregator of the id"
                                                if g("c5.scale.warm_node_aggregates") == 1
                                                else " (no aggregator found)"))
    w(f"{num(g('c5.scale.register.offers_ok'))} offers registered across the 5 nodes at "
      f"{num(g('c5.scale.register.offers_per_sec'))} offers/s. First query of the id "
      f"anywhere, at node 5 (no aggregator yet: a direct read, and a demand that elects "
      f"them): {num(g('c5.scale.cold_ms'))} ms, total {num(g('c5.scale.cold_total'))}; "
      f"later the total at node 5 is {num(g('c5.scale.warm_total'))}. The first query "
      "at each other node: issue 14, below. Warm queries one at a time"
      f"{warm_where}: p50 "
      f"{num(g('c5.scale.warm_p50_us'))} us, p99 {num(g('c5.scale.warm_p99_us'))} us "
      f"({num(g('c5.scale.warm_per_sec_one_in_flight'))}/s), measured "
      f"{num(g('c5.scale.settle_seconds'))} s after the total was complete.")
    w("")
    for name, what in (("query", "during the query load (window 16)"),
                       ("register", "during registrations (64 in flight)")):
        lines = profile(name)
        if lines:
            w(f"Profile of crsp-node {what}: `perf record -e cpu-clock -g`, "
              "self time by library and symbol:")
            w("")
            code_block(lines)
    issue14_section(g, w)
    w("### Commands of this run")
    w("")
    code_block(re.sub(r"/var/tmp/crsp-bench\.\w+", "$work", c) for c in commands)
    w(END)
    text = "\n".join(out) + "\n"
    if os.path.exists(args.out):
        old = open(args.out).read()
        if BEGIN in old and END in old:
            text = old[:old.index(BEGIN)] + text + old[old.index(END) + len(END) + 1:]
        elif not quick:
            text = old.rstrip("\n") + "\n\n" + text
    open(args.out, "w").write(text)


if __name__ == "__main__":
    main()
