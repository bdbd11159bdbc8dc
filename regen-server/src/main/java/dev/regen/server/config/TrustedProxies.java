package dev.regen.server.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code trusted-proxies} setting: addresses and CIDR ranges of load balancers in front of Regen
 * whose {@code X-Forwarded-For}, {@code -Proto} and {@code -Host} are believed. From anyone else those
 * fields are ignored, so a client can't claim another address or scheme. Immutable.
 */
public final class TrustedProxies {
    public static final TrustedProxies NONE = new TrustedProxies(List.of());

    @SuppressWarnings("ArrayRecordComponent") // matched by contains(), never compared by equals
    private record Range(byte[] network, int bits, String text) {
        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int full = bits / 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = bits % 8;
            if (rest == 0) {
                return true;
            }
            int mask = 0xff << (8 - rest) & 0xff;
            return (address[full] & mask) == (network[full] & mask);
        }
    }

    private final List<Range> ranges;

    private TrustedProxies(List<Range> ranges) {
        this.ranges = List.copyOf(ranges);
    }

    /**
     * Parses addresses ({@code 10.0.0.7}, {@code ::1}) and ranges ({@code 10.0.0.0/8}, {@code fd00::/8}).
     *
     * @throws IllegalArgumentException naming the entry that is neither
     */
    public static TrustedProxies parse(List<String> entries) {
        if (entries.isEmpty()) {
            return NONE;
        }
        List<Range> ranges = new ArrayList<>();
        for (String entry : entries) {
            String e = entry.trim();
            int slash = e.indexOf('/');
            String address = slash < 0 ? e : e.substring(0, slash);
            if (!address.matches("[0-9A-Fa-f:.]+")) {
                throw new IllegalArgumentException("not an IP address or CIDR range: " + entry);
            }
            byte[] bytes;
            try {
                bytes = InetAddress.getByName(address).getAddress();
            } catch (UnknownHostException ex) {
                throw new IllegalArgumentException("not an IP address or CIDR range: " + entry);
            }
            int bits = bytes.length * 8;
            if (slash >= 0) {
                try {
                    bits = Integer.parseInt(e.substring(slash + 1));
                } catch (NumberFormatException ex) {
                    throw new IllegalArgumentException("not a CIDR prefix length: " + entry);
                }
                if (bits < 0 || bits > bytes.length * 8) {
                    throw new IllegalArgumentException("prefix length out of range: " + entry);
                }
            }
            ranges.add(new Range(bytes, bits, e));
        }
        return new TrustedProxies(ranges);
    }

    public boolean isEmpty() {
        return ranges.isEmpty();
    }

    public boolean trusts(InetAddress address) {
        if (address == null || ranges.isEmpty()) {
            return false;
        }
        byte[] bytes = address.getAddress();
        for (Range r : ranges) {
            if (r.contains(bytes)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the textual address (as in X-Forwarded-For) is trusted; anything unparseable is not. */
    public boolean trusts(String address) {
        String a = address.trim();
        if (a.startsWith("[") && a.endsWith("]")) {
            a = a.substring(1, a.length() - 1);
        }
        if (ranges.isEmpty() || !a.matches("[0-9A-Fa-f:.]+")) {
            return false;
        }
        try {
            return trusts(InetAddress.getByName(a));
        } catch (UnknownHostException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return ranges.stream().map(Range::text).toList().toString();
    }
}
