#!/bin/sh
# One-shot (compose service tls-init): make a self-signed certificate for local use unless
# /tls already holds tls.crt and tls.key (real certificates: see AWF_TLS_DIR in .env.example).
set -eu
dir=/tls
if [ -s "$dir/tls.crt" ] && [ -s "$dir/tls.key" ]; then
    echo "tls-init: using the existing $dir/tls.crt"
    exit 0
fi
command -v openssl >/dev/null 2>&1 || apk add --no-cache openssl >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 365 \
    -subj "/CN=${AWF_TLS_CN:-localhost}" \
    -addext "subjectAltName=DNS:${AWF_TLS_CN:-localhost},DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/tls.key" -out "$dir/tls.crt"
chmod 0644 "$dir/tls.crt"
chmod 0640 "$dir/tls.key"
echo "tls-init: wrote a self-signed certificate for ${AWF_TLS_CN:-localhost} (365 days)"
