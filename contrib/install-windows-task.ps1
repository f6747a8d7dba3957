# Registers the modup daemon as a Windows scheduled task that starts at logon.
#
#   powershell -ExecutionPolicy Bypass -File contrib\install-windows-task.ps1 -Root "$env:APPDATA\a2\modules"
#
# Log:   Get-Content -Wait "$env:LOCALAPPDATA\modup\modup.log"
# Stop:  Stop-ScheduledTask -TaskName modup
# Remove: Unregister-ScheduledTask -TaskName modup -Confirm:$false
param(
  [Parameter(Mandatory = $true)][string]$Root,
  [string]$Modup = (Get-Command modup.exe -ErrorAction Stop).Source,
  [string]$Interval = "6h"
)
$logDir = Join-Path $env:LOCALAPPDATA "modup"
New-Item -ItemType Directory -Force -Path $logDir | Out-Null
$log = Join-Path $logDir "modup.log"
$args = "/c `"`"$Modup`" daemon --root `"$Root`" --interval $Interval 2>> `"$log`"`""
$action = New-ScheduledTaskAction -Execute "cmd.exe" -Argument $args
$trigger = New-ScheduledTaskTrigger -AtLogOn -User $env:USERNAME
$settings = New-ScheduledTaskSettingsSet -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries `
  -ExecutionTimeLimit ([TimeSpan]::Zero) -RestartCount 3 -RestartInterval (New-TimeSpan -Minutes 1)
Register-ScheduledTask -TaskName "modup" -Action $action -Trigger $trigger -Settings $settings `
  -Description "modup: keep a2 module packages up to date" -Force | Out-Null
Start-ScheduledTask -TaskName "modup"
Write-Host "modup daemon registered and started; log: $log"
