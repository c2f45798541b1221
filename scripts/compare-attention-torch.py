#!/usr/bin/env python3
"""Issue 7's H100 check: Assay's CUDA flash prefill vs PyTorch's scaled_dot_product_attention.

    ./scripts/compare-attention-torch.py [--assay BINARY] [--device N] [--reps 50]

Case: bf16, B=1, H=32, H_kv=8 (GQA 4, Llama-3-8B-like), D=128, S=4096, causal. PyTorch runs
torch.nn.functional.scaled_dot_product_attention with enable_gqa=True where the installed
version has it (torch >= 2.5), else with K/V expanded to 32 heads before timing (the expansion
is not timed). Each call is timed with CUDA events after a warm-up; the reference is the best
call (Assay's gflop_per_s.best is its best sample too). Both are converted to FLOP/s with Assay's
convention: 4·B·H·D·unmasked pairs, S(S+1)/2 pairs per (batch, head) under the causal mask.
The per-backend SDPA timings (flash, cuDNN, efficient) are printed for information; the target
is against the default dispatch, i.e. what a PyTorch user gets.

Assay then runs the same case, `attention.prefill/...seq=4096@cuda:N:cuda.flash`, into a
temporary database (plus the bf16 cuBLASLt GEMM ceiling it is judged against) and the script
prints Assay / PyTorch against the target 0.70.

Exit status: 0 when the ratio meets the target, 1 when it does not (or Assay's result is missing
or failed), 77 when it cannot run here ("skipped: no CUDA GPU" / "skipped: no torch").
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

TARGET = 0.70
B, H, H_KV, D, S = 1, 32, 8, 128, 4096
SKIP = 77


def skip(why):
    print(f"skipped: {why}")
    sys.exit(SKIP)


def flops():
    return 4.0 * B * H * D * (S * (S + 1) / 2.0)


def find_assay(given):
    for cand in [given, os.environ.get("ASSAY"), "./build/release/app/assay", shutil.which("assay")]:
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def time_torch(torch, fn, reps):
    """Best and median seconds of fn() over reps CUDA-event-timed calls (after 5 warm-ups)."""
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) * 1e-3)
    times.sort()
    return times[0], times[len(times) // 2]


def torch_reference(device, reps):
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        skip("no torch (PyTorch is not installed for this Python)")
    if not torch.cuda.is_available() or torch.cuda.device_count() <= device:
        skip("no CUDA GPU (torch.cuda.is_available() is False or the device index is absent)")
    dev = torch.device("cuda", device)
    torch.cuda.set_device(dev)
    gen = torch.Generator(device=dev).manual_seed(0xA77E)
    # Uniform [-1, 1) as Assay's inputs (never zeros: zeros inflate GPU throughput).
    q = torch.rand((B, H, S, D), device=dev, dtype=torch.float32, generator=gen).mul_(2).sub_(1)
    k = torch.rand((B, H_KV, S, D), device=dev, dtype=torch.float32, generator=gen).mul_(2).sub_(1)
    v = torch.rand((B, H_KV, S, D), device=dev, dtype=torch.float32, generator=gen).mul_(2).sub_(1)
    q, k, v = q.bfloat16(), k.bfloat16(), v.bfloat16()

    try:
        F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        gqa_note = "enable_gqa=True"

        def call():
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    except TypeError:
        ke = k.repeat_interleave(H // H_KV, dim=1).contiguous()
        ve = v.repeat_interleave(H // H_KV, dim=1).contiguous()
        gqa_note = "K/V expanded to 32 heads (no enable_gqa in this torch)"

        def call():
            return F.scaled_dot_product_attention(q, ke, ve, is_causal=True)

    best, median = time_torch(torch, call, reps)
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(dev)}, {gqa_note}")
    print(f"  SDPA default dispatch: best {best * 1e3:.3f} ms = {flops() / best / 1e12:.1f} "
          f"TFLOP/s, median {median * 1e3:.3f} ms")

    # Per-backend numbers, for information only.
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        for name in ("FLASH_ATTENTION", "CUDNN_ATTENTION", "EFFICIENT_ATTENTION"):
            backend = getattr(SDPBackend, name, None)
            if backend is None:
                continue
            try:
                with sdpa_kernel(backend):
                    b_best, _ = time_torch(torch, call, max(5, reps // 5))
                print(f"  SDPA {name.lower()}: best {b_best * 1e3:.3f} ms = "
                      f"{flops() / b_best / 1e12:.1f} TFLOP/s")
            except RuntimeError as e:
                print(f"  SDPA {name.lower()}: not available here ({str(e).splitlines()[0]})")
    except ImportError:
        pass
    return flops() / best


def assay_result(assay, device):
    case = ("batch=1,causal=true,dtype=bf16,head_dim=128,heads_kv=8,heads_q=32,"
            "preset=llama3_8b,seq=4096")
    name = f"attention\\.prefill/{case}@cuda:{device}:cuda\\.flash"
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "compare-attention-torch.db")
        print(f"== {assay} run --filter '^{name}$' (db {db})", file=sys.stderr)
        subprocess.run([assay, "run", "--db", db, "--suite", "full", "--no-progress",
                        "--filter", f"^{name}$"], check=False, stdout=subprocess.DEVNULL)
        out = subprocess.run([assay, "report", "--db", db, "--format", "json"], check=True,
                             capture_output=True, text=True).stdout
    doc = json.loads(out)
    for r in doc["runs"][0]["results"]:
        if r["benchmark"] != "attention.prefill" or r["backend"] != "cuda.flash":
            continue
        if r["status"] != "ok" or not r.get("verified", False):
            print(f"Assay result {r['status']}: {r.get('message', '')}")
            return None, r
        for m in r["metrics"]:
            if m["name"] == "gflop_per_s.best":
                return m["value"] * 1e9, r
    return None, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assay", help="assay binary (default: $ASSAY or ./build/release/app/assay)")
    ap.add_argument("--device", type=int, default=0, help="CUDA device index")
    ap.add_argument("--reps", type=int, default=50, help="timed SDPA calls")
    args = ap.parse_args()
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

    ref = torch_reference(args.device, args.reps)  # exits 77 without torch or a GPU
    assay = find_assay(args.assay)
    if assay is None:
        print("Assay binary not found: pass --assay or set $ASSAY (a CUDA build is needed)")
        return 1
    got, result = assay_result(assay, args.device)
    if got is None:
        print("FAIL: no verified Assay result for the case")
        return 1
    ratio = got / ref
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    impl = (result or {}).get("implementation", "")
    print(f"Assay cuda.flash: {got / 1e12:.1f} TFLOP/s (best sample){' - ' + impl if impl else ''}")
    print(f"ratio Assay / torch SDPA = {ratio:.3f} (target >= {TARGET:.2f}): {verdict}")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
