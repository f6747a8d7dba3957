MsgBox, Tools 1.0.0
