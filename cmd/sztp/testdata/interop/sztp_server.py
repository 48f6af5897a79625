#!/usr/bin/env python3
"""A small, independent RFC 8572 bootstrap server (Python 3 standard library).

It is NOT part of sztp: it exists so that tests can check that `sztp run`
bootstraps against a server this project's Go code did not write. It speaks
RESTCONF over HTTPS with client-certificate verification and HTTP Basic auth
(username = the serial number in the client certificate), answers
get-bootstrapping-data with unsigned onboarding information in RFC 7951 JSON,
accepts report-progress with 204 and logs each report as a JSON line.
"""
import argparse
import base64
import hashlib
import json
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RPC = "/restconf/operations/ietf-sztp-bootstrap-server:"
JSON_TYPE = "application/yang-data+json"
# id-ct-sztpConveyedInfoJSON, RFC 8572 section 10.3
OID_CONVEYED_JSON = "1.2.840.113549.1.9.16.1.43"


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def der_oid(dotted):
    parts = [int(p) for p in dotted.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7F]
        p >>= 7
        while p:
            enc.insert(0, 0x80 | (p & 0x7F))
            p >>= 7
        out += bytes(enc)
    return der(0x06, out)


def content_info(oid, content):
    """ContentInfo { contentType, [0] EXPLICIT OCTET STRING content }."""
    return der(0x30, der_oid(oid) + der(0xA0, der(0x04, content)))


def hexstring(b):
    return ":".join("%02x" % x for x in b)


class State:
    def __init__(self, args):
        self.args = args
        self.password = open(args.password_file).read().strip()
        self.image = open(args.image, "rb").read()
        self.lock = threading.Lock()
        self.port = None

    def onboarding(self):
        image_uri = "https://127.0.0.1:%d/image" % self.port
        info = {
            "ietf-sztp-conveyed-info:onboarding-information": {
                "boot-image": {
                    "os-name": "InteropOS",
                    "os-version": "9.9",
                    "download-uri": [image_uri],
                    "image-verification": [{
                        "hash-algorithm": "ietf-sztp-conveyed-info:sha-256",
                        "hash-value": hexstring(hashlib.sha256(self.image).digest()),
                    }],
                },
                "configuration-handling": "replace",
                "pre-configuration-script": base64.b64encode(b"#!/bin/sh\necho interop pre-script\n").decode(),
                "configuration": base64.b64encode(self.args.configuration.encode()).decode(),
                "post-configuration-script": base64.b64encode(b"#!/bin/sh\necho interop post-script\n").decode(),
            }
        }
        return json.dumps(info).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "interop-sztp/1"

    def log_message(self, fmt, *a):
        sys.stderr.write("interop: " + (fmt % a) + "\n")

    def send(self, code, body=b"", ctype=JSON_TYPE):
        self.send_response(code)
        if code != 204:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if code != 204:
            self.wfile.write(body)

    def error(self, code, tag, msg):
        body = json.dumps({"ietf-restconf:errors": {"error": [
            {"error-type": "application", "error-tag": tag, "error-message": msg}]}}).encode()
        self.send(code, body)

    def serial(self):
        cert = self.connection.getpeercert()
        if not cert:
            return None
        serial = None
        for rdn in cert.get("subject", ()):
            for k, v in rdn:
                if k == "serialNumber":
                    serial = v
        return serial

    def do_GET(self):
        st = self.server.state
        if self.path == "/image":
            self.send(200, st.image, "application/octet-stream")
            return
        self.error(404, "invalid-value", "not found")

    def do_POST(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if not self.path.startswith(RPC):
            self.error(404, "invalid-value", "unknown resource")
            return
        serial = self.serial()
        if serial is None:
            self.error(401, "access-denied", "client certificate required")
            return
        auth = self.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(("%s:%s" % (serial, st.password)).encode()).decode()
        if auth != expected:
            self.error(401, "access-denied", "bad credentials")
            return
        if self.headers.get("Content-Type", "").split(";")[0].strip() != JSON_TYPE:
            self.error(415, "invalid-value", "want " + JSON_TYPE)
            return
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            self.error(400, "malformed-message", "bad JSON")
            return
        rpc = self.path[len(RPC):]
        if rpc == "get-bootstrapping-data":
            ci = content_info(OID_CONVEYED_JSON, st.onboarding())
            out = {"ietf-sztp-bootstrap-server:output": {
                "reporting-level": "verbose",
                "conveyed-information": base64.b64encode(ci).decode()}}
            self.send(200, json.dumps(out).encode())
        elif rpc == "report-progress":
            inp = doc.get("ietf-sztp-bootstrap-server:input", {})
            with st.lock:
                with open(st.args.report_log, "a") as f:
                    f.write(json.dumps({"serial": serial, "progress-type": inp.get("progress-type"),
                                        "message": inp.get("message", "")}) + "\n")
            self.send(204)
        else:
            self.error(404, "invalid-value", "unknown RPC " + rpc)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--client-ca", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--configuration", default="hostname interop-device\n")
    p.add_argument("--port-file", required=True)
    p.add_argument("--report-log", required=True)
    args = p.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.load_verify_locations(args.client_ca)
    # Optional at the TLS layer so /image can be downloaded without a
    # certificate; RESTCONF requests are refused without one.
    ctx.verify_mode = ssl.CERT_OPTIONAL

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    httpd.state = State(args)
    httpd.state.port = httpd.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(httpd.state.port))
    os.rename(tmp, args.port_file)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
