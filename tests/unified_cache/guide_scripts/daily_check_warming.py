# The guide's daily_cache_performance_check.sh, "Cache warming effectiveness" `python3 -c`
# part, verbatim except: the import line, and the quotes nested in one f-string (the guide
# reuses ' inside f'...', which only Python >= 3.12 accepts; this project runs 3.11).
import asyncio
from unified_cache import get_unified_manager, ManagerMode

async def check_warming():
    manager = get_unified_manager(ManagerMode.HIGH_AVAILABILITY)
    await manager.initialize()
    stats = await manager.get_cache_stats()
    
    print(f'  Enabled: {stats.warming_enabled} {"✅" if stats.warming_enabled else "⚠️"}')
    print(f'  Cycles: {stats.warming_cycles}')
    print(f'  Effectiveness: {stats.warming_hit_rate:.2%}')
    
    await manager.close()

asyncio.run(check_warming())
