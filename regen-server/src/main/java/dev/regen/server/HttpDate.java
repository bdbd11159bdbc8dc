package dev.regen.server;

import io.netty.handler.codec.DateFormatter;
import java.time.InstantSource;
import java.util.Date;

/** The {@code Date} field value, formatted once per second instead of once per response. */
final class HttpDate {
    private record Stamp(long second, String value) {}

    private final InstantSource clock;
    private volatile Stamp last = new Stamp(Long.MIN_VALUE, "");

    HttpDate(InstantSource clock) {
        this.clock = clock;
    }

    String now() {
        long millis = clock.millis();
        long second = Math.floorDiv(millis, 1000);
        Stamp s = last;
        if (s.second() != second) {
            @SuppressWarnings("JavaUtilDate") // what Netty's formatter takes
            Date date = new Date(second * 1000);
            s = new Stamp(second, DateFormatter.format(date));
            last = s;
        }
        return s.value();
    }
}
