package io.sockflow.embedded;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * HTTP basic authentication against a fixed set of users. Credentials are compared as SHA-256 digests with
 * {@link MessageDigest#isEqual}, against every user each time, so the answer takes as long for a near miss, an
 * unknown user or a match.
 */
final class BasicAuth {
    static final String CHALLENGE = "Basic realm=\"sockflow-registry\", charset=\"UTF-8\"";

    private record User(String name, byte[] digest) {}

    private final List<User> users = new ArrayList<>();

    BasicAuth(Map<String, String> passwords) {
        if (passwords.isEmpty()) {
            throw new IllegalArgumentException("basic auth needs at least one user");
        }
        passwords.forEach((user, password) -> {
            if (user == null
                    || user.isEmpty()
                    || user.contains(":")
                    || user.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException("registry user name '" + user
                        + "' is not usable: it must be non-empty, without ':' or control characters");
            }
            if (password == null || password.isEmpty()) {
                throw new IllegalArgumentException("registry user '" + user + "' has an empty password: give one");
            }
            users.add(new User(user, sha256(user + ":" + password)));
        });
    }

    /** The user that {@code authorization} (the header's value, or null) names with a right password, else null. */
    String authenticate(String authorization) {
        if (authorization == null
                || authorization.length() < 6
                || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        byte[] given;
        try {
            given = Base64.getDecoder().decode(authorization.substring(6).trim());
        } catch (IllegalArgumentException e) {
            return null;
        }
        byte[] digest = sha256(new String(given, StandardCharsets.UTF_8));
        String found = null;
        for (User u : users) {
            if (MessageDigest.isEqual(u.digest(), digest) && found == null) {
                found = u.name();
            }
        }
        return found;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
