package io.spindle.http;

import io.spindle.Settings;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which web pages may call the API (the {@code Origin} header) and which names it answers to (the
 * {@code Host} header). Without API keys a request carries no secret, so any page the user visits
 * could call a server on the user's machine: only loopback origins and loopback host names are
 * accepted (a foreign {@code Host} means DNS rebinding), plus those listed in the settings. With keys,
 * a page needs a key anyway: any origin (unless listed otherwise) and any host.
 */
final class BrowserAccess {
    private static final Pattern LOOPBACK_IPV4 = Pattern.compile("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");

    private final boolean anyOrigin;
    private final List<String> origins;
    private final boolean anyHost;
    private final List<String> hosts;

    BrowserAccess(boolean anyOrigin, List<String> origins, boolean anyHost, List<String> hosts) {
        this.anyOrigin = anyOrigin;
        this.origins = origins.stream().map(BrowserAccess::normalOrigin).toList();
        this.anyHost = anyHost;
        this.hosts = hosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
    }

    static BrowserAccess of(Settings settings) {
        Optional<List<String>> origins = settings.web().corsOrigins();
        boolean anyOrigin = origins.map(list -> list.contains("*")).orElse(settings.authRequired());
        List<String> hosts = settings.web().allowedHosts();
        return new BrowserAccess(anyOrigin, origins.orElse(List.of()), settings.authRequired() || hosts.contains("*"), hosts);
    }

    /** Whether every origin is allowed, so that answers carry {@code Access-Control-Allow-Origin: *}. */
    boolean anyOrigin() {
        return anyOrigin;
    }

    /** Whether a page of this origin (the {@code Origin} header's value) may call the API. */
    boolean allowsOrigin(String origin) {
        if (anyOrigin) {
            return true;
        }
        URI uri;
        try {
            uri = new URI(origin.trim());
        } catch (java.net.URISyntaxException e) {
            return false;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (uri.getHost() == null || !scheme.equals("http") && !scheme.equals("https")) {
            return false; // "null" (sandboxed pages, files) and anything that is not a web origin
        }
        String host = uri.getHost().toLowerCase(Locale.ROOT);
        if (isLoopback(host)) {
            return true;
        }
        String normal = normalOrigin(origin);
        String anyPort = scheme + "://" + host + ":*";
        return origins.contains(normal) || origins.contains(anyPort);
    }

    /** Whether a request addressed to this {@code Host} header value (name, optional port) is answered. */
    boolean allowsHost(String hostHeader) {
        if (anyHost) {
            return true;
        }
        String name = hostName(hostHeader.trim()).toLowerCase(Locale.ROOT);
        return isLoopback(name) || hosts.contains(name);
    }

    /** The name part of a Host header: {@code [::1]:8080} → {@code [::1]}, {@code localhost:8080} → {@code localhost}. */
    static String hostName(String hostHeader) {
        if (hostHeader.startsWith("[")) {
            int end = hostHeader.indexOf(']');
            return end < 0 ? hostHeader : hostHeader.substring(0, end + 1);
        }
        int colon = hostHeader.lastIndexOf(':');
        return colon < 0 ? hostHeader : hostHeader.substring(0, colon);
    }

    static boolean isLoopback(String name) {
        return name.equals("localhost") || LOOPBACK_IPV4.matcher(name).matches()
                || name.equals("[::1]") || name.equals("::1") || name.equals("[0:0:0:0:0:0:0:1]");
    }

    private static String normalOrigin(String origin) {
        String o = origin.trim().toLowerCase(Locale.ROOT);
        return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
    }
}
