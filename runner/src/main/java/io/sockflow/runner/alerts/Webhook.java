package io.sockflow.runner.alerts;

import io.sockflow.schemas.Alert;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The webhook output: each alert POSTed as its JSON ({@link AlertJson}), with an optional header (a bearer token)
 * read from a file. A 2xx answer delivers it; anything else is a {@link Failure} that says whether trying again may
 * help (a 5xx, a 408 or 429, no connection, a timeout) or not (any other answer). Redirects are not followed.
 */
public final class Webhook implements AlertOutputs.Destination {
    private final URI url;
    private final Duration timeout;
    private final String headerName;
    private final String headerValue;
    private final HttpClient http;

    /** An answer that is no delivery. */
    public static final class Failure extends IOException {
        private final boolean retry;

        Failure(String message, boolean retry) {
            super(message);
            this.retry = retry;
        }

        public boolean retry() {
            return retry;
        }
    }

    /**
     * @param header {@code Name: value}, or null
     */
    public Webhook(URI url, Duration timeout, String[] header) {
        this.url = url;
        this.timeout = timeout;
        this.headerName = header == null ? null : header[0];
        this.headerValue = header == null ? null : header[1];
        this.http = HttpClient.newBuilder()
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    @Override
    public String describe() {
        // the URL without its query, which may hold a key
        return "webhook " + url.getScheme() + "://" + url.getRawAuthority() + url.getRawPath();
    }

    @Override
    public void send(Alert a) throws IOException {
        HttpRequest.Builder r = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("User-Agent", "sockflow")
                .header("Idempotency-Key", a.getAlertId())
                .POST(HttpRequest.BodyPublishers.ofString(AlertJson.line(a), StandardCharsets.UTF_8));
        if (headerName != null) {
            r.header(headerName, headerValue);
        }
        HttpResponse<Void> answer;
        try {
            answer = http.send(r.build(), HttpResponse.BodyHandlers.discarding());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("stopped");
        } catch (java.net.http.HttpTimeoutException e) {
            throw new Failure("no answer within " + timeout.toMillis() + " ms", true);
        } catch (IOException e) {
            throw new Failure("cannot reach it: " + e, true);
        }
        int status = answer.statusCode();
        if (status / 100 == 2) {
            return;
        }
        throw new Failure("answered " + status, status / 100 == 5 || status == 408 || status == 429);
    }

    @Override
    public void close() {
        http.close();
    }
}
