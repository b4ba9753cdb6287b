# The guide's daily_cache_performance_check.sh, first `python3 -c` part, verbatim except:
# the import line, and the quotes nested in three f-strings (the guide reuses ' inside
# f'...', which only Python >= 3.12 accepts; this project runs 3.11).
import asyncio
from unified_cache import get_unified_manager, ManagerMode

async def check_performance():
    manager = get_unified_manager(ManagerMode.HIGH_AVAILABILITY)
    await manager.initialize()
    stats = await manager.get_cache_stats()
    
    # Performance assessment
    hit_rate_ok = stats.hit_rate > 0.85
    health_ok = stats.health_status == 'healthy'
    utilization_ok = stats.l1_utilization < 0.90
    
    status = '✅ EXCELLENT' if all([hit_rate_ok, health_ok, utilization_ok]) else '⚠️ NEEDS ATTENTION'
    print(f'{status}')
    print(f'  Hit Rate: {stats.hit_rate:.2%} {"✅" if hit_rate_ok else "⚠️"}')
    print(f'  Health: {stats.health_status} {"✅" if health_ok else "❌"}')
    print(f'  L1 Utilization: {stats.l1_utilization:.2%} {"✅" if utilization_ok else "⚠️"}')
    
    await manager.close()

asyncio.run(check_performance())
