"""`bench serve`: two adapters on one base, over real HTTP on 127.0.0.1, chosen per request by model name."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import torch

from harness.cli.main import main
from harness.core.errors import BenchError
from harness.model.generate import generate
from harness.model.loading import load_base
from harness.serve.adapters import AdapterRegistry
from harness.serve.completion import complete

MESSAGES = [{"role": "system", "content": "Classify the note."}, {"role": "user", "content": "Note 3: about bricks."}]


def make_adapter(base_dir: Path, out: Path, *, seed: int, use_dora: bool = False) -> Path:
    """A LoRA adapter with random (not zero) B matrices, so it visibly changes the model's outputs."""
    from peft import LoraConfig, get_peft_model

    base = load_base(str(base_dir))
    torch.manual_seed(seed)
    config = LoraConfig(
        r=4,
        lora_alpha=8,
        target_modules=["q_proj", "v_proj"],
        init_lora_weights=False,
        use_dora=use_dora,
        task_type="CAUSAL_LM",
    )
    get_peft_model(base.model, config).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def adapters(tiny_model_dir, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("adapters")
    return {
        "one": make_adapter(tiny_model_dir, root / "one", seed=1),
        "two": make_adapter(tiny_model_dir, root / "two", seed=2),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tiny_model_dir, adapters):
    """The app under uvicorn in a thread: real sockets, real HTTP, one process."""
    import uvicorn

    from harness.serve.app import create_app

    base = load_base(str(tiny_model_dir))
    registry = AdapterRegistry.load(base, "tiny", adapters)
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(create_app(registry, max_tokens_limit=64), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        yield client, registry, base
    uv.should_exit = True
    thread.join(timeout=10)


def chat(client, model: str, **extra) -> httpx.Response:
    return client.post("/v1/chat/completions", json={"model": model, "messages": MESSAGES, "max_tokens": 8, **extra})


def reference_output(base_dir: Path, adapter: Path | None) -> str:
    """What the adapter says when loaded alone, the plain peft way, on a fresh base."""
    from peft import PeftModel

    base = load_base(str(base_dir))
    model = PeftModel.from_pretrained(base.model, adapter).eval() if adapter else base.model
    return generate(model, base.tokenizer, [MESSAGES], batch_size=1, max_new_tokens=8)[0].text


def test_each_model_name_answers_with_its_own_adapter(server, adapters, tiny_model_dir):
    client, registry, _ = server
    answers = {}
    for name in ["one", "two", "tiny", "one"]:  # back to "one": switching is reversible
        response = chat(client, name)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["object"] == "chat.completion" and body["model"] == name
        assert body["choices"][0]["message"]["role"] == "assistant"
        assert body["usage"]["completion_tokens"] == 8 and body["choices"][0]["finish_reason"] == "length"
        text = body["choices"][0]["message"]["content"]
        assert answers.setdefault(name, text) == text
    assert len({answers["one"], answers["two"], answers["tiny"]}) == 3
    assert answers == {
        "one": reference_output(tiny_model_dir, adapters["one"]),
        "two": reference_output(tiny_model_dir, adapters["two"]),
        "tiny": reference_output(tiny_model_dir, None),
    }


def test_base_weights_are_loaded_once_and_shared(server):
    client, registry, base = server
    embed = base.model.get_input_embeddings().weight
    pointer = embed.data_ptr()
    switches = registry.switches
    for name in ["two", "one", "two"]:
        assert chat(client, name).status_code == 200
    assert registry.model.get_base_model() is base.model  # every adapter sits on the one base module
    assert base.model.get_input_embeddings().weight.data_ptr() == pointer  # its weights were never reloaded
    assert registry.switches == switches + 3
    assert client.get("/health").json()["adapter_switches"] == registry.switches


def test_models_and_health(server, adapters):
    client, _, base = server
    models = client.get("/v1/models").json()
    assert models["object"] == "list"
    assert [(m["id"], m["parent"]) for m in models["data"]] == [("tiny", None), ("one", "tiny"), ("two", "tiny")]
    # Names only: a client learns nothing about the server's folders.
    assert [m["root"] for m in models["data"]] == ["tiny", "one", "two"]
    assert str(adapters["one"]) not in json.dumps(models) and base.source not in json.dumps(models)
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["base_model"] == "tiny" and health["adapters"] == ["one", "two"]
    assert health["warnings"] == []


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"model": "three", "messages": MESSAGES}, 404, "model 'three' is not served here; available: tiny, one, two"),
        ({"model": "one", "messages": []}, 400, "messages: List should have at least 1 item"),
        (
            {"model": "one", "messages": [{"role": "robot", "content": "hi"}]},
            400,
            "messages.0.role: Input should be 'system', 'user' or 'assistant'",
        ),
        ({"model": "one", "messages": MESSAGES, "stream": True}, 400, "stream: streaming is not supported"),
        ({"model": "one", "messages": MESSAGES, "n": 2}, 400, "n: only one choice per request is supported"),
        ({"model": "one", "messages": MESSAGES, "logit_bias": {}}, 400, "logit_bias: unknown field"),
        (
            {"model": "one", "messages": MESSAGES, "max_tokens": 0},
            400,
            "max_tokens: Input should be greater than or equal to 1",
        ),
        (
            {"model": "one", "messages": MESSAGES, "max_tokens": 65},
            400,
            "max_tokens is 65; this server allows at most 64",
        ),
        (
            {"model": "one", "messages": MESSAGES, "temperature": 3},
            400,
            "temperature: Input should be less than or equal to 2",
        ),
        ({"messages": MESSAGES}, 400, "model: Field required"),
    ],
)
def test_invalid_requests_are_refused_with_a_clear_message(server, body, status, message):
    client, _, _ = server
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert message in error["message"] and error["type"] == "invalid_request_error"


def test_a_body_that_is_not_json(server):
    client, _, _ = server
    response = client.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]["message"]


def test_text_parts_and_seeded_sampling(server):
    client, _, _ = server
    parts = [{"role": m["role"], "content": [{"type": "text", "text": m["content"]}]} for m in MESSAGES]
    as_parts = client.post("/v1/chat/completions", json={"model": "two", "messages": parts, "max_tokens": 8}).json()
    assert (
        as_parts["choices"][0]["message"]["content"] == chat(client, "two").json()["choices"][0]["message"]["content"]
    )
    sampled = [
        chat(client, "one", temperature=1.0, seed=5).json()["choices"][0]["message"]["content"] for _ in range(2)
    ]
    assert sampled[0] == sampled[1]  # same seed, same sample


def test_stop_strings_cut_the_text(tiny_model_dir, adapters):
    from peft import PeftModel

    base = load_base(str(tiny_model_dir))
    model = PeftModel.from_pretrained(base.model, adapters["two"]).eval()
    full = complete(model, base.tokenizer, MESSAGES, max_tokens=8)
    assert full.finish_reason == "length" and len(full.text) > 3
    marker = full.text[2:4]
    cut = complete(model, base.tokenizer, MESSAGES, max_tokens=8, stop=["never-there", marker])
    assert cut.text == full.text[: full.text.index(marker)] and cut.finish_reason == "stop"


def test_registry_refuses_bad_adapter_sets(tiny_model_dir, adapters, tmp_path):
    base = load_base(str(tiny_model_dir))
    with pytest.raises(BenchError, match="served twice"):
        AdapterRegistry.load(base, "one", {"one": adapters["one"]})
    with pytest.raises(BenchError, match="not a valid model name"):
        AdapterRegistry.load(base, "tiny", {"bad name": adapters["one"]})
    with pytest.raises(BenchError, match="no peft adapter"):
        AdapterRegistry.load(base, "tiny", {"x": tmp_path})


# ----------------------------------------------------------------------------- key and limits
KEY = "test-key-0123456789"


@pytest.fixture(scope="module")
def guarded(server):
    """The same registry behind an app with an API key and small limits, driven in process."""
    from fastapi.testclient import TestClient

    from harness.serve.app import create_app

    _, registry, _ = server
    app = create_app(
        registry, max_tokens_limit=64, api_key=KEY, max_body_bytes=4000, max_messages=4, max_prompt_tokens=60
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def authorised(client, body: dict | None = None, **kwargs) -> httpx.Response:
    body = body or {"model": "one", "messages": MESSAGES, "max_tokens": 4}
    return client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"}, **kwargs)


@pytest.mark.parametrize("header", [None, "Bearer wrong-key", f"Basic {KEY}", KEY, "Bearer "])
def test_every_endpoint_needs_the_api_key(guarded, header):
    headers = {"Authorization": header} if header is not None else {}
    for method, path in [("get", "/health"), ("get", "/v1/models"), ("post", "/v1/chat/completions")]:
        response = getattr(guarded, method)(path, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"]["code"] == "invalid_api_key"
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert authorised(guarded).status_code == 200
    assert guarded.get("/health", headers={"Authorization": f"bearer {KEY}"}).status_code == 200


@pytest.mark.parametrize(
    "body, status, message",
    [
        (
            {"model": "one", "messages": MESSAGES * 3},
            400,
            "the request has 6 messages; this server allows at most 4",
        ),
        (
            {"model": "one", "messages": [{"role": "user", "content": "bricks " * 200}]},
            400,
            "this server allows at most 60",
        ),
        ({"model": "one", "messages": MESSAGES, "seed": 2**70}, 400, "seed: Input should be less than or equal to"),
        ({"model": "one", "messages": MESSAGES, "seed": -1}, 400, "seed: Input should be greater than or equal to 0"),
        ({"model": "one", "messages": MESSAGES, "max_tokens": 2**70}, 400, "this server allows at most 64"),
        ({"model": "one", "messages": MESSAGES, "stop": ["a"] * 5}, 400, "stop: Value should have at most 4 items"),
        ({"model": "one", "messages": [{"role": "user", "content": "x" * 5000}]}, 413, "larger than this server's"),
    ],
)
def test_limits_answer_400_or_413_never_500(guarded, body, status, message):
    response = authorised(guarded, body)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]["message"]


def test_a_chunked_or_deeply_nested_body_is_refused_cleanly(guarded):
    def chunks():
        for _ in range(10):
            yield b" " * 1000  # no content-length: the limit is counted as the body arrives

    response = guarded.post(
        "/v1/chat/completions",
        content=chunks(),
        headers={"Authorization": f"Bearer {KEY}", "content-type": "application/json"},
    )
    assert response.status_code == 413
    nested = b"[" * 1900 + b"]" * 1900  # within the size limit, deeper than Python's JSON parser goes
    response = guarded.post(
        "/v1/chat/completions",
        content=nested,
        headers={"Authorization": f"Bearer {KEY}", "content-type": "application/json"},
    )
    assert response.status_code == 400 and "error" in response.json()


def test_no_page_loads_from_a_cdn(guarded):
    headers = {"Authorization": f"Bearer {KEY}"}
    for path in ("/docs", "/redoc"):
        response = guarded.get(path, headers=headers)
        assert response.status_code == 404 and "cdn" not in response.text.lower()
    assert guarded.get("/openapi.json", headers=headers).status_code == 200


def test_serve_refuses_to_listen_beyond_loopback_without_a_key(adapters, tiny_model_dir, monkeypatch, capsys):
    from harness.cli.serve import check_exposure

    monkeypatch.delenv("BENCH_API_KEY", raising=False)
    args = ["serve", "--adapter", f"one={adapters['one']}", "--base", str(tiny_model_dir)]
    assert main([*args, "--host", "0.0.0.0"]) == 2  # refused before any model is loaded
    assert "no API key is set" in " ".join(capsys.readouterr().err.split())
    with pytest.raises(BenchError, match="no API key"):
        check_exposure("192.168.1.20", None)
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        check_exposure(host, None)
    check_exposure("0.0.0.0", "a-key")
    monkeypatch.setenv("BENCH_API_KEY", "from-the-environment")
    from harness.cli.main import build_parser

    assert build_parser().parse_args([*args, "--host", "0.0.0.0"]).api_key == "from-the-environment"


# ----------------------------------------------------------------------------- command line
def test_print_vllm(adapters, tiny_model_dir, capsys):
    args = ["serve", "--adapter", f"one={adapters['one']}", "--adapter", f"two={adapters['two']}", "--print-vllm"]
    assert main([*args, "--base", "smollm2-135m-instruct", "--port", "9000"]) == 0
    line = " ".join(capsys.readouterr().out.replace("\\\n", " ").split())
    assert line == (
        f"vllm serve HuggingFaceTB/SmolLM2-135M-Instruct --host 127.0.0.1 --port 9000 --dtype float32 "
        f"--served-model-name smollm2-135m-instruct --enable-lora --max-loras 2 --max-lora-rank 8 "
        f"--lora-modules one={adapters['one'].resolve()} two={adapters['two'].resolve()}"
    )
    # Without --base, the base the adapters were trained on.
    assert main(args) == 0
    assert f"vllm serve {tiny_model_dir}" in capsys.readouterr().out


def test_print_vllm_refuses_what_vllm_cannot_serve(tiny_model_dir, tmp_path, capsys):
    dora = make_adapter(tiny_model_dir, tmp_path / "dora", seed=3, use_dora=True)
    assert main(["serve", "--adapter", f"d={dora}", "--print-vllm"]) == 2
    assert "vLLM does not serve DoRA adapters" in capsys.readouterr().err.replace("\n", " ")
    assert main(["serve", "--adapter", f"a={dora}", "--adapter", f"a={dora}", "--print-vllm"]) == 2


def test_bench_serve_command_end_to_end(adapters, tiny_model_dir, tmp_path):
    """The real CLI in its own process: start, answer, stop."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "harness.cli.main",
        "serve",
        "--adapter",
        f"one={adapters['one']}",
        "--adapter",
        f"two={adapters['two']}",
        "--base",
        str(tiny_model_dir),
        "--base-name",
        "tiny",
        "--port",
        str(port),
    ]
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=Path(__file__).parents[1])
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            deadline = time.monotonic() + 90
            while True:
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "bench serve did not come up"
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["tiny", "one", "two"]
            one, two = (chat(client, name).json()["choices"][0]["message"]["content"] for name in ("one", "two"))
            assert one != two
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
