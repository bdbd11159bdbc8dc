package dev.regen.store.redis;

import dev.regen.cluster.Cluster;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Records what a {@link Cluster} tells its listener. */
final class RecordingListener implements Cluster.Listener {

    final List<List<String>> changes = new CopyOnWriteArrayList<>();
    final List<List<Cluster.Refresh>> refreshes = new CopyOnWriteArrayList<>();
    final AtomicInteger missed = new AtomicInteger();

    @Override
    public void changed(Collection<String> keys) {
        changes.add(List.copyOf(keys));
    }

    @Override
    public void refreshed(Collection<Cluster.Refresh> refreshed) {
        refreshes.add(List.copyOf(refreshed));
    }

    @Override
    public void missedChanges() {
        missed.incrementAndGet();
    }
}
