//! Upload: HMAC signing, streamed multipart body, progress, retries and typed outcomes.
