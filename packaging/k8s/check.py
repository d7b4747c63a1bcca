"""Checks the Kubernetes manifests for what matters, against running levee processes:
probes point at paths that answer 200 on the process they probe, named ports exist,
selectors match pod labels, the Service and PodDisruptionBudgets select real pods, the
HPA scales the serve Deployment on CPU at 60%, and the ConfigMap + Secret environment is
a configuration levee accepts.

    python3 packaging/k8s/check.py LEVEE_BINARY SERVE_URL WORKER_PROBE_URL
"""
import glob
import os
import subprocess
import sys
import urllib.request

import yaml

binary, serve_url, worker_url = sys.argv[1:4]
here = os.path.dirname(os.path.abspath(__file__))
docs = [d for f in sorted(glob.glob(os.path.join(here, "*.yaml")))
        for d in yaml.safe_load_all(open(f)) if d]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}
check(set(deployments) == {"levee-serve", "levee-worker"}, f"Deployments for serve and worker: {sorted(deployments)}")
pod_labels = {}
for name, d in deployments.items():
    spec = d["spec"]
    labels = spec["template"]["metadata"]["labels"]
    pod_labels[name] = labels
    check(selects(spec["selector"]["matchLabels"], labels), f"{name}: selector matches its pod labels")
    for c in spec["template"]["spec"]["containers"]:
        role = c["args"][0]
        check(role in ("serve", "worker"), f"{name}: runs `levee {role}`")
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        base = serve_url if role == "serve" else worker_url
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if probe not in c:
                continue
            get = c[probe]["httpGet"]
            check(get["port"] in ports, f"{name}: {probe} port {get['port']} is a container port")
            try:
                status = urllib.request.urlopen(base + get["path"], timeout=5).status
            except Exception as e:  # noqa: BLE001 - any failure is the finding
                status = e
            check(status == 200, f"{name}: {probe} {get['path']} answers 200 on `levee {role}` ({status})")
        check("livenessProbe" in c, f"{name}: has a liveness probe")
        if role == "serve":
            check("readinessProbe" in c and c["readinessProbe"]["httpGet"]["path"] == "/ready",
                  f"{name}: readiness probe is /ready")
        res = c.get("resources", {})
        check("requests" in res and "limits" in res, f"{name}: resource requests and limits")
        check(c.get("securityContext", {}).get("allowPrivilegeEscalation") is False,
              f"{name}: no privilege escalation")

for svc in by_kind.get("Service", []):
    sel = svc["spec"]["selector"]
    targets = [n for n, l in pod_labels.items() if selects(sel, l)]
    check(targets == ["levee-serve"], f"Service {svc['metadata']['name']} selects the serve pods ({targets})")
    serve_ports = {p["name"] for c in deployments["levee-serve"]["spec"]["template"]["spec"]["containers"]
                   for p in c.get("ports", [])}
    for p in svc["spec"]["ports"]:
        check(p["targetPort"] in serve_ports, f"Service targetPort {p['targetPort']} exists on the serve pods")

for pdb in by_kind.get("PodDisruptionBudget", []):
    sel = pdb["spec"]["selector"]["matchLabels"]
    targets = [n for n, l in pod_labels.items() if selects(sel, l)]
    check(len(targets) == 1, f"PodDisruptionBudget {pdb['metadata']['name']} selects {targets}")

hpas = by_kind.get("HorizontalPodAutoscaler", [])
check(len(hpas) == 1, "one HorizontalPodAutoscaler")
for hpa in hpas:
    ref = hpa["spec"]["scaleTargetRef"]
    check(ref["kind"] == "Deployment" and ref["name"] == "levee-serve", f"HPA targets the serve Deployment ({ref['name']})")
    cpu = [m["resource"]["target"]["averageUtilization"] for m in hpa["spec"]["metrics"]
           if m["type"] == "Resource" and m["resource"]["name"] == "cpu"]
    check(cpu == [60], f"HPA scales on CPU at 60% ({cpu})")

env = {"PATH": os.environ.get("PATH", "")}
for kind in ("ConfigMap", "Secret"):
    for d in by_kind.get(kind, []):
        env.update(d.get("data") or {})
        env.update(d.get("stringData") or {})
out = subprocess.run([binary, "serve", "--print-config"], env=env, capture_output=True, text=True)
check(out.returncode == 0, f"levee accepts the ConfigMap + Secret environment {out.stderr.strip()}")

print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
