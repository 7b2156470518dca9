"""`--auth sigv4`: AWS Signature Version 4, verified the way AWS documents it.

Off by default (any or no credentials work). With it, every AWS call must be signed by
one of the configured credentials (`--credentials AKID:SECRET,...`), either in the
`Authorization` header or in the query string (a presigned URL), and is refused with
AWS's error codes otherwise:

- nothing signed: MissingAuthenticationTokenException;
- an Authorization header or query that lacks parts: IncompleteSignatureException;
- an access key that is not configured: UnrecognizedClientException;
- a wrong signature, a request dated more than 5 minutes from now (header form), or a
  presigned URL past its X-Amz-Expires: InvalidSignatureException.

The algorithm (AWS General Reference, "Create a signed AWS API request"):

    canonical request = METHOD \\n canonical URI \\n canonical query \\n
                        canonical headers \\n signed header names \\n payload hash
    string to sign    = AWS4-HMAC-SHA256 \\n X-Amz-Date \\n scope \\n sha256(canonical request)
    signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
                             "aws4_request")
    signature         = hex(HMAC(signing key, string to sign))

where the canonical URI is the path as sent, with dot segments removed and percent-
encoded once more (every AWS service but S3 encodes paths twice), the canonical query is
every parameter but X-Amz-Signature, name and value percent-encoded (RFC 3986 unreserved
characters kept) and sorted, and the canonical headers are the signed ones, lower-case,
values trimmed and inner runs of spaces collapsed, several values joined by commas.

Request age is measured against real time, not the emulator's clock: a test that moves
the clock a day ahead still signs with its own (real) time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from calendar import timegm
from collections.abc import Callable, Iterable
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from emulator.errors import (
    AwsError,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

ALGORITHM = "AWS4-HMAC-SHA256"
#: How far a header-signed request's date may be from now (AWS: 5 minutes).
MAX_SKEW_SECONDS = 300
#: The longest a presigned URL may be valid for (AWS: 7 days).
MAX_EXPIRES_SECONDS = 7 * 24 * 3600
_BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)
_UNRECOGNIZED = "The security token included in the request is invalid."


def parse_credentials(text: str) -> dict[str, str]:
    """`AKID:SECRET,AKID2:SECRET2` as {access key: secret}; ValueError when malformed."""
    found: dict[str, str] = {}
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        access_key, colon, secret = entry.partition(":")
        if not colon or not access_key or not secret:
            raise ValueError(f"--credentials entries are ACCESS_KEY:SECRET, not {entry!r}")
        found[access_key] = secret
    if not found:
        raise ValueError("--credentials needs at least one ACCESS_KEY:SECRET")
    return found


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def canonical_uri(raw_path: str) -> str:
    """The path as sent, normalised as AWS does for every service but S3 - empty, `.`
    and `..` segments removed (RFC 3986 5.2.4, plus runs of slashes), a trailing slash
    kept - then percent-encoded once more."""
    segments: list[str] = []
    for segment in raw_path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    path = "/" + "/".join(segments)
    if raw_path.endswith("/") and segments:
        path += "/"
    return quote(path, safe="/~")


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def query_pairs(query_string: bytes) -> list[tuple[str, str]]:
    pairs = []
    for part in query_string.decode("latin-1").split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def _trim(value: str) -> str:
    return " ".join(value.split())


def _stamp(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def _epoch_of(amz_date: str) -> float | None:
    try:
        return float(timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ")))
    except ValueError:
        return None


class SigV4Verifier:
    """Checks one request's signature against the configured credentials."""

    __slots__ = ("credentials", "now")

    def __init__(self, credentials: dict[str, str], now: Callable[[], float] = time.time):
        self.credentials = credentials
        self.now = now

    def verify(
        self,
        method: str,
        raw_path: bytes,
        query_string: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        service: str,
    ) -> tuple[AwsError | None, str | None]:
        """(the error to answer or None, the region of the credential scope)."""
        by_name: dict[str, list[str]] = {}
        for name, value in headers:
            by_name.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        authorization = by_name.get("authorization")
        pairs = query_pairs(query_string) if query_string else []
        query = dict(pairs)
        try:
            if authorization:
                return None, self._verify_header(
                    method, raw_path, pairs, by_name, authorization[0], body, service
                )
            if "X-Amz-Algorithm" in query or "X-Amz-Signature" in query:
                return None, self._verify_query(
                    method, raw_path, pairs, query, by_name, body, service
                )
        except AwsError as error:
            return error, None
        return MissingAuthenticationTokenException("Request is missing Authentication Token"), None

    # -- the two forms ------------------------------------------------------------------

    def _verify_header(
        self,
        method: str,
        raw_path: bytes,
        pairs: list[tuple[str, str]],
        headers: dict[str, list[str]],
        authorization: str,
        body: bytes,
        service: str,
    ) -> str:
        algorithm, _, rest = authorization.strip().partition(" ")
        if algorithm != ALGORITHM:
            raise IncompleteSignatureException(f"Unsupported AWS 'algorithm': '{algorithm}'")
        fields: dict[str, str] = {}
        for part in rest.split(","):
            name, equals, value = part.strip().partition("=")
            if not equals:
                raise IncompleteSignatureException(
                    f"'{part.strip()}' not a valid key=value pair (missing equal-sign) in "
                    f"Authorization header: '{authorization}'."
                )
            fields[name] = value
        missing = [
            f"Authorization header requires '{name}' parameter."
            for name in ("Credential", "Signature", "SignedHeaders")
            if not fields.get(name)
        ]
        amz_date = self._request_date(headers)
        if amz_date is None:
            missing.append(
                "Authorization header requires existence of either a 'X-Amz-Date' or a "
                "'Date' header."
            )
        if missing:
            raise IncompleteSignatureException(
                " ".join(missing) + f" Authorization={authorization}"
            )
        assert amz_date is not None
        moment = _epoch_of(amz_date)
        if moment is None:
            raise IncompleteSignatureException(
                f"X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", "
                f"not '{amz_date}'"
            )
        now = self.now()
        if moment < now - MAX_SKEW_SECONDS:
            raise InvalidSignatureException(
                f"Signature expired: {amz_date} is now earlier than "
                f"{_stamp(now - MAX_SKEW_SECONDS)} ({_stamp(now)} - 5 min.)"
            )
        if moment > now + MAX_SKEW_SECONDS:
            raise InvalidSignatureException(
                f"Signature not yet current: {amz_date} is still later than "
                f"{_stamp(now + MAX_SKEW_SECONDS)} ({_stamp(now)} + 5 min.)"
            )
        return self._check(
            method,
            raw_path,
            pairs,
            headers,
            fields["Credential"],
            fields["SignedHeaders"],
            fields["Signature"],
            amz_date,
            body,
            service,
        )

    def _verify_query(
        self,
        method: str,
        raw_path: bytes,
        pairs: list[tuple[str, str]],
        query: dict[str, str],
        headers: dict[str, list[str]],
        body: bytes,
        service: str,
    ) -> str:
        missing = [
            name
            for name in (
                "X-Amz-Algorithm",
                "X-Amz-Credential",
                "X-Amz-Signature",
                "X-Amz-SignedHeaders",
                "X-Amz-Date",
                "X-Amz-Expires",
            )
            if not query.get(name)
        ]
        if missing:
            raise IncompleteSignatureException(
                "".join(f"AWS query-string parameters must include '{m}'. " for m in missing)
                + "Re-examine the query-string parameters."
            )
        if query["X-Amz-Algorithm"] != ALGORITHM:
            raise IncompleteSignatureException(
                f"Unsupported AWS 'algorithm': '{query['X-Amz-Algorithm']}'"
            )
        amz_date = query["X-Amz-Date"]
        moment = _epoch_of(amz_date)
        expires_text = query["X-Amz-Expires"]
        if moment is None:
            raise IncompleteSignatureException(
                f"X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", "
                f"not '{amz_date}'"
            )
        if not expires_text.isdigit() or not 1 <= int(expires_text) <= MAX_EXPIRES_SECONDS:
            raise IncompleteSignatureException(
                f"X-Amz-Expires must be a whole number of seconds from 1 to "
                f"{MAX_EXPIRES_SECONDS}, not '{expires_text}'"
            )
        now = self.now()
        if now > moment + int(expires_text):
            raise InvalidSignatureException(
                f"Signature expired: {amz_date} is now earlier than "
                f"{_stamp(now - int(expires_text))} ({_stamp(now)} - {expires_text} sec.)"
            )
        if moment > now + MAX_SKEW_SECONDS:
            raise InvalidSignatureException(
                f"Signature not yet current: {amz_date} is still later than "
                f"{_stamp(now + MAX_SKEW_SECONDS)} ({_stamp(now)} + 5 min.)"
            )
        signed_pairs = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
        return self._check(
            method,
            raw_path,
            signed_pairs,
            headers,
            query["X-Amz-Credential"],
            query["X-Amz-SignedHeaders"],
            query["X-Amz-Signature"],
            amz_date,
            body,
            service,
        )

    # -- shared -------------------------------------------------------------------------

    @staticmethod
    def _request_date(headers: dict[str, list[str]]) -> str | None:
        amz = headers.get("x-amz-date")
        if amz:
            return amz[0].strip()
        date = headers.get("date")
        if date:
            try:
                return _stamp(parsedate_to_datetime(date[0]).timestamp())
            except (TypeError, ValueError):
                return date[0].strip()
        return None

    def _check(
        self,
        method: str,
        raw_path: bytes,
        pairs: list[tuple[str, str]],
        headers: dict[str, list[str]],
        credential: str,
        signed_headers: str,
        signature: str,
        amz_date: str,
        body: bytes,
        service: str,
    ) -> str:
        """Verify the signature; the region of the credential scope."""
        parts = credential.split("/")
        if len(parts) != 5 or not all(parts):
            raise IncompleteSignatureException(
                f"Credential should be ACCESS_KEY/yyyyMMdd/REGION/SERVICE/aws4_request, "
                f"not '{credential}'"
            )
        access_key, date, region, scoped_service, terminator = parts
        if terminator != "aws4_request":
            raise InvalidSignatureException(
                f"Credential should be scoped with a valid terminator: 'aws4_request', "
                f"not '{terminator}'."
            )
        if scoped_service != service:
            raise InvalidSignatureException(
                f"Credential should be scoped to correct service: '{service}'."
            )
        if date != amz_date[:8]:
            raise InvalidSignatureException(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                f"date from HTTP: '{date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
        secret = self.credentials.get(access_key)
        if secret is None:
            raise UnrecognizedClientException(_UNRECOGNIZED)
        names = signed_headers.split(";")
        if "host" not in names:
            raise InvalidSignatureException(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
            )
        payload_hash = hashlib.sha256(body).hexdigest()
        declared = headers.get("x-amz-content-sha256")
        if declared and declared[0] not in (payload_hash, "UNSIGNED-PAYLOAD"):
            raise InvalidSignatureException(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        canonical_headers = "".join(
            f"{name}:{','.join(_trim(v) for v in headers.get(name, []))}\n" for name in names
        )
        canonical_request = "\n".join(
            (
                method,
                canonical_uri(raw_path.decode("latin-1") or "/"),
                canonical_query(pairs),
                canonical_headers,
                signed_headers,
                declared[0] if declared else payload_hash,
            )
        )
        string_to_sign = "\n".join(
            (
                ALGORITHM,
                amz_date,
                "/".join(parts[1:]),
                hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
            )
        )
        expected = hmac.new(
            signing_key(secret, date, region, scoped_service),
            string_to_sign.encode("utf-8"),
            hashlib.sha256,
        ).hexdigest()
        if not hmac.compare_digest(expected, signature.strip().lower()):
            raise InvalidSignatureException(_BAD_SIGNATURE)
        return region
