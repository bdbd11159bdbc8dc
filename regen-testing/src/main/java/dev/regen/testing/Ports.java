package dev.regen.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Loopback ports for servers a test starts itself. */
public final class Ports {
    private Ports() {}

    /**
     * A loopback port that was free a moment ago: for a server that must be told its port before it
     * starts (a child process, a restart on the same port). Another process may take it meanwhile.
     */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
