# infra-audit as an image: multi-stage, non-root, every dependency pinned by requirements.lock (hashes).
# Not built where this project is developed (no container engine there); tests/e2e/test_dockerfile.py
# runs the build stage's install steps in a fresh venv and the installed command from outside the
# source tree. Build: docker build -t infra-audit:0.1.0 .
# Run:   docker run --rm -v "$PWD:/estate:ro" -v "$PWD/out:/out" infra-audit:0.1.0 \
#          run /estate --offline --out /out --fail-on high

ARG PYTHON_IMAGE=python:3.12-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
COPY domain/ domain/
COPY tools/ tools/
COPY agents/ agents/
COPY pipeline/ pipeline/
COPY prompts/ prompts/
# install: the lock first (every package, with its hash), then the project itself (no dependency left to resolve)
RUN python -m venv /opt/infra-audit
RUN /opt/infra-audit/bin/pip install --require-hashes --no-deps -r requirements.lock
RUN /opt/infra-audit/bin/pip install --no-deps --no-build-isolation .

FROM ${PYTHON_IMAGE}
RUN useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin audit
COPY --from=build /opt/infra-audit /opt/infra-audit
ENV PATH=/opt/infra-audit/bin:$PATH \
    INFRA_AUDIT_HOME=/home/audit/.local/state/infra-audit \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /home/audit
ENTRYPOINT ["infra-audit"]
CMD ["--help"]
