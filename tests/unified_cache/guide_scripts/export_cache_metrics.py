# scripts/export_cache_metrics.py
import asyncio
import csv
import datetime
from unified_cache import get_unified_manager, ManagerMode

async def export_metrics_to_csv(filename=None):
    """Export current cache metrics to CSV file."""
    if not filename:
        timestamp = datetime.datetime.now().strftime("%Y%m%d_%H%M%S")
        filename = f"cache_metrics_{timestamp}.csv"
    
    manager = get_unified_manager(ManagerMode.HIGH_AVAILABILITY)
    await manager.initialize()
    
    stats = await manager.get_cache_stats()
    connection_metrics = manager.get_connection_metrics()
    
    # Prepare data for CSV
    metrics_data = {
        "timestamp": datetime.datetime.now().isoformat(),
        "hit_rate": stats.hit_rate,
        "l1_hits": stats.l1_hits,
        "l2_hits": stats.l2_hits,
        "l3_hits": stats.l3_hits,
        "total_requests": stats.total_requests,
        "l1_utilization": stats.l1_utilization,
        "l1_size": stats.l1_size,
        "cache_health": stats.health_status,
        "warming_enabled": stats.warming_enabled,
        "warming_cycles": stats.warming_cycles,
        "warming_hit_rate": stats.warming_hit_rate,
        "redis_master_connected": connection_metrics.redis_master_connected,
        "redis_replica_connected": connection_metrics.redis_replica_connected,
        "active_db_connections": connection_metrics.active_connections,
        "pool_utilization": connection_metrics.pool_utilization
    }
    
    # Write to CSV
    with open(filename, 'w', newline='') as csvfile:
        writer = csv.DictWriter(csvfile, fieldnames=metrics_data.keys())
        writer.writeheader()
        writer.writerow(metrics_data)
    
    await manager.close()
    print(f"Metrics exported to {filename}")
    return filename

if __name__ == "__main__":
    asyncio.run(export_metrics_to_csv())
