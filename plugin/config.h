/* config.h - build settings shared by the plug-ins. */
#ifndef __NS_CONFIG_H__
#define __NS_CONFIG_H__

#define GETTEXT_PACKAGE "gimp-neural-style"

#endif /* __NS_CONFIG_H__ */
