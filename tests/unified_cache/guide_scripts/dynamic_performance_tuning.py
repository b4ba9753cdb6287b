# scripts/dynamic_performance_tuning.py
import asyncio
from unified_cache import get_unified_manager, ManagerMode

async def auto_tune_performance():
    """Automatically adjust performance settings based on metrics."""
    manager = get_unified_manager(ManagerMode.HIGH_AVAILABILITY)
    await manager.initialize()
    
    # Get current performance metrics
    stats = await manager.get_cache_stats()
    
    recommendations = []
    
    # Analyze hit rate
    if stats.hit_rate < 0.85:
        if stats.l1_utilization < 0.70:
            recommendations.append("Increase L1 cache size to improve hit rate")
        if stats.warming_enabled and stats.warming_hit_rate < 0.80:
            recommendations.append("Increase cache warming aggressiveness")
    
    # Analyze response times
    if hasattr(stats, 'avg_response_time') and stats.avg_response_time > 0.010:
        if stats.l1_utilization > 0.95:
            recommendations.append("L1 cache oversized - reduce size to improve GC performance")
        else:
            recommendations.append("Investigate slow cache operations")
    
    # Analyze utilization
    if stats.l1_utilization > 0.95:
        recommendations.append("L1 cache at capacity - consider increasing size or reducing TTL")
    elif stats.l1_utilization < 0.50:
        recommendations.append("L1 cache underutilized - consider reducing size to save memory")
    
    await manager.close()
    
    print("=== Performance Tuning Recommendations ===")
    if recommendations:
        for i, rec in enumerate(recommendations, 1):
            print(f"{i}. {rec}")
    else:
        print("No tuning recommendations - performance is optimal")
    
    return recommendations

if __name__ == "__main__":
    asyncio.run(auto_tune_performance())
